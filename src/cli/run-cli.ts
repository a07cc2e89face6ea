import { EXIT_INTERNAL_ERROR, PortmatrixError, formatUserError } from '../errors.js';
import { toTerminalText } from '../util/untrusted-text.js';
import { createProgram, isCommanderUsageError } from './program.js';

/**
 * One run of the command line: user mistakes become one line and exit 2, never a stack trace.
 * Sets process.exitCode and never exits, so that a test harness can run many in one process.
 */
export async function runCli(argv: readonly string[]): Promise<void> {
  try {
    const program = await createProgram(argv);
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (isCommanderUsageError(error)) {
      // --help and --version end here too, with exit code 0.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    if (error instanceof PortmatrixError) {
      // The message may quote a file, a target or an option value: one safe line.
      process.stderr.write(`portmatrix: ${toTerminalText(formatUserError(error))}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    // A bug, not a user mistake: keep the stack so it can be reported.
    process.stderr.write(`portmatrix: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = EXIT_INTERNAL_ERROR;
  }
}
