/**
 * Where reports go, at the edge of a run: which format goes to which file (checked before a
 * scan), and the writing itself: files atomically and without colour, standard output with
 * colour on a terminal. Renderers stay pure; this is the only place they meet the file system.
 */
import { PortmatrixError } from '../errors.js';
import { FORMAT_EXTENSIONS, loadRenderer, REPORT_FORMATS } from '../report/formats.js';
import type { ReportFormat } from '../report/formats.js';
import type { ScanResult } from '../result/model.js';
import { checkOutputPath, writeFileAtomic } from '../util/atomic-write.js';

export interface OutputTarget {
  format: ReportFormat;
  /** undefined: standard output. */
  path?: string;
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
