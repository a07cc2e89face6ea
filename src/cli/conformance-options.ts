/**
 * The conformance half of `portmatrix scan` (--matrix/--component/--platform/--policy/--strict/
 * --fail-on/--format/--output) and the report writing shared with `portmatrix report`.
 * Everything the user passed is checked by prepareConformance before any packet is sent.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import type { checkConformance } from '../conformance/diff.js';
import { FAIL_ON_LEVELS } from '../conformance/model.js';
import type { FailOn } from '../conformance/model.js';
import type { exitCodeFor, Policy } from '../conformance/policy.js';
import { DEFAULT_FAIL_ON } from '../defaults.js';
import { PortmatrixError } from '../errors.js';
import type { Expectation, Selection } from '../matrix/expectation.js';
import type { LoadedMatrix } from '../matrix/load.js';
import { FORMAT_EXTENSIONS, loadRenderer, REPORT_FORMATS } from '../report/formats.js';
import type { ReportFormat } from '../report/formats.js';
import type { ScanResult } from '../result/model.js';
import { checkOutputPath, writeFileAtomic } from '../util/atomic-write.js';
import { readInputText } from '../util/read-input.js';
import { toTerminalText } from '../util/untrusted-text.js';
import type { ScanStages } from './scan-command.js';

export interface ConformanceFlags {
  matrix?: string;
  component?: string[];
  platform?: string;
  policy?: string;
  strict?: boolean;
  failOn?: FailOn;
  format?: string[];
  output?: string;
}

/** Repeatable and comma-separated: `--format json --format html,junit`. An empty item is a mistake, not "the default". */
function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((item) => item.trim())];
}

/** --format and --output, shared by scan, report and diff. */
export function addOutputOptions(command: Command, formats: readonly string[] = REPORT_FORMATS): Command {
  return command
    .option('--format <formats>', `report formats, repeatable or comma-separated: ${formats.join(', ')} (default: table)`, collectList)
    .option('--output <path>', 'write the report to this file; with several formats, the base name (extensions are added)');
}

export function addConformanceOptions(command: Command): Command {
  command
    .option('--matrix <id|file>', 'check the host against this port matrix (a built-in id or a YAML file)')
    .option('--component <ids>', 'components running on the host, repeatable or comma-separated (default: the matrix defaults)', collectList)
    .option('--platform <id>', 'platform of the host (default: the first one the components share)')
    .option('--policy <file>', 'YAML policy: severity overrides, waivers, conditions that hold')
    .option('--strict', 'every deviation from the documented default is an error')
    .addOption(new Option('--fail-on <level>', 'lowest severity that makes the exit code 1').choices(FAIL_ON_LEVELS).default(DEFAULT_FAIL_ON));
  return addOutputOptions(command);
}

export interface OutputTarget {
  format: ReportFormat;
  /** undefined: standard output. */
  path?: string;
}

export interface ConformanceSetup {
  check?: {
    loaded: LoadedMatrix;
    selection: Selection;
    expectations: Expectation[];
    policy?: Policy;
    strict: boolean;
    failOn: FailOn;
    /** The conformance engine, loaded with the matrix: a scan without --matrix never loads it (nor zod and yaml). */
    engine: { checkConformance: typeof checkConformance; exitCodeFor: typeof exitCodeFor };
  };
  outputs: OutputTarget[];
}

/** Validates every conformance and output flag and loads matrix and policy. Throws PortmatrixError (exit 2). */
export async function prepareConformance(flags: ConformanceFlags): Promise<ConformanceSetup> {
  const outputs = await planOutputs(flags.format, flags.output);
  if (flags.matrix === undefined) {
    const needsMatrix = (['component', 'platform', 'policy', 'strict'] as const).find((flag) => flags[flag] !== undefined && flags[flag] !== false);
    if (needsMatrix) {
      throw new PortmatrixError('E_USAGE', `--${needsMatrix} needs --matrix`, { hint: 'name the port matrix to check against, e.g. --matrix ip-office-9.1' });
    }
    return { outputs };
  }
  const [{ loadMatrix }, { selectExpectations }, { checkConformance }, { checkPolicyRows, exitCodeFor }] = await Promise.all([
    import('../matrix/load.js'),
    import('../matrix/select.js'),
    import('../conformance/diff.js'),
    import('../conformance/policy.js'),
  ]);
  const loaded = await loadMatrix(flags.matrix);
  const { selection, expectations } = selectExpectations(loaded.matrix, {
    ...(flags.component ? { components: flags.component } : {}),
    ...(flags.platform ? { platform: flags.platform } : {}),
  });
  const policy = flags.policy === undefined ? undefined : await readPolicy(flags.policy);
  if (policy) checkPolicyRows(policy, expectations, loaded.matrix.rows);
  return {
    check: {
      loaded,
      selection,
      expectations,
      ...(policy ? { policy } : {}),
      strict: flags.strict ?? false,
      failOn: flags.failOn ?? DEFAULT_FAIL_ON,
      engine: { checkConformance, exitCodeFor },
    },
    outputs,
  };
}

export async function readPolicy(file: string): Promise<Policy> {
  const text = await readInputText(file, { label: `policy file ${file}`, code: 'E_POLICY', hint: 'check the --policy path' });
  const { parsePolicyText } = await import('../conformance/policy.js');
  return parsePolicyText(text, file);
}

/** The formats a command writes and their file endings (scan and report: REPORT_FORMATS; diff: its own). */
export interface FormatCatalog<Format extends string> {
  formats: readonly Format[];
  extensions: Readonly<Record<Format, string>>;
}

const REPORT_CATALOG: FormatCatalog<ReportFormat> = { formats: REPORT_FORMATS, extensions: FORMAT_EXTENSIONS };

/**
 * Which format goes where. No --output: one format to standard output. --output with one
 * format: exactly that file. --output with several: BASE + each format's extension.
 */
export async function planOutputs(requested: readonly string[] | undefined, output: string | undefined): Promise<OutputTarget[]> {
  return planFormatOutputs(requested, output, REPORT_CATALOG);
}

export async function planFormatOutputs<Format extends string>(
  requested: readonly string[] | undefined,
  output: string | undefined,
  catalog: FormatCatalog<Format>,
): Promise<{ format: Format; path?: string }[]> {
  const formats: Format[] = [];
  for (const name of requested && requested.length > 0 ? requested : ['table']) {
    if (!(catalog.formats as readonly string[]).includes(name)) {
      throw new PortmatrixError('E_USAGE', name === '' ? '--format has an empty format name' : `unknown --format ${JSON.stringify(name)}`, { hint: `formats: ${catalog.formats.join(', ')}` });
    }
    if (!formats.includes(name as Format)) formats.push(name as Format);
  }
  if (output === undefined) {
    if (formats.length > 1) {
      throw new PortmatrixError('E_USAGE', `--format ${formats.join(',')} writes several reports: name a base file with --output`, {
        hint: `e.g. --output audit writes ${formats.map((format) => `audit${catalog.extensions[format]}`).join(', ')}`,
      });
    }
    return formats.map((format) => ({ format }));
  }
  // A base name that is empty or ends in a slash would make hidden files (".json", "reports/.html").
  if (formats.length > 1 && (output.trim() === '' || output.endsWith('/'))) await checkOutputPath(output);
  const targets =
    formats.length === 1
      ? [{ format: formats[0]!, path: output }]
      : formats.map((format) => ({ format, path: `${stripReportExtension(output)}${catalog.extensions[format]}` }));
  for (const target of targets) await checkOutputPath(target.path);
  return targets;
}

function stripReportExtension(file: string): string {
  const endings = [...Object.values(FORMAT_EXTENSIONS), '.xml'].sort((a, b) => b.length - a.length);
  const ending = endings.find((candidate) => file.endsWith(candidate));
  return ending ? file.slice(0, -ending.length) : file;
}

/** Adds the conformance section (findings at this moment's policy) to a finished scan result. */
export function attachConformance(setup: ConformanceSetup, result: ScanResult, now: Date = new Date()): ScanResult {
  const check = setup.check;
  if (!check) return result;
  const findings = check.engine.checkConformance({
    expectations: check.expectations,
    hosts: result.hosts,
    ...(check.policy ? { policy: check.policy } : {}),
    strict: check.strict,
    now,
    ...(result.checks ? { services: result.checks.services } : {}),
  });
  const { matrix } = check.loaded;
  return {
    ...result,
    conformance: {
      matrix: { id: matrix.id, product: matrix.product, version: matrix.version, document: matrix.document.title },
      selection: check.selection,
      failOn: check.failOn,
      expectations: check.expectations,
      findings,
    },
  };
}

/** 0 or 1 from the findings at --fail-on; 0 without a matrix. */
export function conformanceExitCode(setup: ConformanceSetup, result: ScanResult): 0 | 1 {
  return setup.check && result.conformance ? setup.check.engine.exitCodeFor(result.conformance.findings, result.conformance.failOn) : 0;
}

export interface TerminalOptions {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
}

/** Colour on a terminal, unless NO_COLOR (any non-empty value) or TERM=dumb says otherwise. */
export function shouldColor(terminal: TerminalOptions): boolean {
  return terminal.stdout.isTTY === true && !terminal.env.NO_COLOR && terminal.env.TERM !== 'dumb';
}

/**
 * Writes every requested report: files atomically and without colour (so `portmatrix report`
 * re-renders them byte for byte), standard output with colour when it is a terminal.
 * With `summaryOnTerminal`, the table also goes to the terminal when no report took it.
 */
export async function writeReports(
  outputs: readonly OutputTarget[],
  result: ScanResult,
  terminal: TerminalOptions,
  options: { summaryOnTerminal?: boolean } = {},
): Promise<string[]> {
  const written: string[] = [];
  for (const target of outputs) {
    const render = await loadRenderer(target.format);
    if (target.path === undefined) terminal.stdout.write(render(result, { color: shouldColor(terminal) }));
    else {
      await writeFileAtomic(target.path, render(result));
      written.push(target.path);
    }
  }
  if (options.summaryOnTerminal && outputs.every((target) => target.path !== undefined)) {
    terminal.stdout.write((await loadRenderer('table'))(result, { color: shouldColor(terminal) }));
  }
  return written;
}

/**
 * The scan command's conformance stages: prepare checks every conformance and output flag
 * (before any packet is sent) and selects the expectations; finish adds the findings, writes
 * the reports (the summary table goes to the terminal when every report went to a file) and
 * returns the exit code at --fail-on.
 */
export function createConformanceStages(terminal: TerminalOptions = { stdout: process.stdout, env: process.env }): ScanStages {
  let setup: ConformanceSetup | undefined;
  return {
    async prepare(options) {
      setup = await prepareConformance(options as ConformanceFlags);
      return { expectations: setup.check?.expectations ?? [] };
    },
    async finish(result) {
      if (!setup) throw new Error('conformance finish before prepare');
      const finished = attachConformance(setup, result);
      const written = await writeReports(setup.outputs, finished, terminal, { summaryOnTerminal: true });
      for (const file of written) process.stderr.write(`wrote ${toTerminalText(file)}\n`);
      return { result: finished, exitCode: conformanceExitCode(setup, finished) };
    },
  };
}
