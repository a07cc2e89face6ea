import { Command, CommanderError } from 'commander';
import { toTerminalText } from '../util/untrusted-text.js';
import { TOOL_VERSION } from '../version.js';

/**
 * The commands, each in its own file, loaded only when the command line names it (a scan
 * never loads the matrix importer, `--version` loads nothing): importing every command made
 * every run pay for zod, yaml and all renderers. One line per command.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => unknown>> = {
  matrix: async () => (await import('./matrix-command.js')).registerMatrixCommand,
  report: async () => (await import('./report-command.js')).registerReportCommand,
  scan: async () => (await import('./scan-command.js')).registerScanCommand,
  demo: async () => (await import('./demo-command.js')).registerDemoCommand,
  audit: async () => (await import('./audit-command.js')).registerAuditCommand,
  merge: async () => (await import('./merge-command.js')).registerMergeCommand,
  check: async () => (await import('./check-command.js')).registerCheckCommand,
  diff: async () => (await import('./diff-command.js')).registerDiffCommand,
};

/** The commands argv needs: the one it names; none for a bare --version; all otherwise (help, a typo to suggest for). */
function commandsFor(argv: readonly string[]): string[] {
  const args = argv.slice(2);
  const named = args.find((arg) => !arg.startsWith('-'));
  if (named !== undefined && Object.hasOwn(COMMANDS, named)) return [named];
  if (named === undefined && args.length > 0 && args.every((arg) => arg === '--version' || arg === '-V')) return [];
  return Object.keys(COMMANDS);
}

/**
 * The commander program. Command files parse flags, call the library, render, write, and set
 * process.exitCode; heavy modules stay out of the way until an action needs them.
 */
export async function createProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('portmatrix')
    .description("Scan a host and diff its ports against the vendor's documented port matrix.")
    .version(TOOL_VERSION)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // Usage errors as one line like every other error (exit code 2 is set by main); help stays as it is.
      writeErr: (text) => process.stderr.write(formatCommanderError(text)),
    });
  const registrations = await Promise.all(commandsFor(argv).map((name) => COMMANDS[name]!()));
  for (const register of registrations) register(program);
  return program;
}

/** "error: unknown command 'scna'\n(Did you mean scan?)\n" -> "portmatrix: unknown command 'scna' (did you mean scan?; see portmatrix --help)\n". */
export function formatCommanderError(text: string): string {
  if (!text.startsWith('error: ')) return text;
  const [first = '', ...rest] = text.trim().slice('error: '.length).split('\n');
  const suggestion = rest.join(' ').match(/^\(Did you mean (.+)\?\)$/)?.[1];
  return `portmatrix: ${toTerminalText(first.replace(/\.$/, ''))} (${suggestion ? `did you mean ${toTerminalText(suggestion)}? ` : ''}see portmatrix --help)\n`;
}

export function isCommanderUsageError(error: unknown): error is CommanderError {
  return error instanceof CommanderError;
}
