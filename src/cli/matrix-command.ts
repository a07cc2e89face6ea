import type { Command } from 'commander';
import Table from 'cli-table3';
import pc from 'picocolors';
import { listBuiltinMatrices, loadMatrix } from '../matrix/load.js';
import type { LoadedMatrix } from '../matrix/load.js';
import { resolveSelection, rowApplies, selectExpectations } from '../matrix/select.js';
import type { Condition, DocumentedState, Matrix, MatrixRow } from '../matrix/model.js';
import type { Expectation } from '../matrix/expectation.js';
import { formatPortSpec } from '../model/port-range.js';
import { toJsonText, toTerminalText } from '../util/untrusted-text.js';
import { registerMatrixImportCommand } from './matrix-import-command.js';
import { collectCommaList } from './option-values.js';

/** `portmatrix matrix ...`: list, show, validate, import. */
export function registerMatrixCommand(program: Command): Command {
  const matrix = program.command('matrix').description('list, show, validate and import port matrices');
  registerListCommand(matrix);
  registerShowCommand(matrix);
  registerValidateCommand(matrix);
  registerMatrixImportCommand(matrix);
  return matrix;
}

/** Repeatable and comma-separated: `--component a --component b,c`. */
/** "1 row", "2 rows". */
function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

function writeJson(value: unknown): void {
  process.stdout.write(`${toJsonText(value)}\n`);
}

/** Every cell comes from a matrix file, which may be anyone's: made safe for the terminal. */
function addRow(table: Table.Table, cells: readonly (string | number)[]): void {
  table.push(cells.map((cell) => toTerminalText(String(cell))));
}

function createTable(head: string[]): Table.Table {
  // Plain borders and headings: colour only through picocolors, which honours NO_COLOR and pipes.
  return new Table({ head: head.map((title) => pc.bold(title)), style: { head: [], border: [], compact: true } });
}

function registerListCommand(matrix: Command): void {
  matrix
    .command('list')
    .description('list the built-in matrices, their components, platforms and row counts')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }) => {
      const loaded = await listBuiltinMatrices();
      if (options.json) {
        writeJson(loaded.map(describeMatrix));
        return;
      }
      const table = createTable(['matrix', 'product', 'version', 'component', 'platforms', 'rows', 'listeners']);
      for (const { matrix: m } of loaded) {
        m.components.forEach((component, index) => {
          const rows = m.rows.filter((row) => row.component === component.id);
          addRow(table, [
            index === 0 ? m.id : '',
            index === 0 ? m.product : '',
            index === 0 ? m.version : '',
            `${component.id}${component.default ? ' (default)' : ''}`,
            component.platforms.join(', '),
            rows.length,
            rows.filter((row) => row.direction !== 'egress').length,
          ]);
        });
      }
      process.stdout.write(`${table.toString()}\n`);
      const totalRows = loaded.reduce((sum, { matrix: m }) => sum + m.rows.length, 0);
      process.stdout.write(`${count(loaded.length, 'built-in matrix', 'built-in matrices')}, ${count(totalRows, 'row')}. Show one: portmatrix matrix show <matrix>\n`);
    });
}

function describeMatrix({ matrix: m, path, builtin }: LoadedMatrix): Record<string, unknown> {
  return {
    id: m.id,
    product: m.product,
    version: m.version,
    document: m.document,
    path,
    builtin,
    platforms: m.platforms,
    components: m.components.map((component) => ({
      ...component,
      rows: m.rows.filter((row) => row.component === component.id).length,
    })),
    rows: m.rows.length,
    history: m.history.length,
  };
}

interface ShowOptions {
  component: string[];
  platform?: string;
  listeners?: boolean;
  json?: boolean;
}

function registerShowCommand(matrix: Command): void {
  matrix
    .command('show')
    .description('show the rows of a matrix, or with --listeners the expected listeners of a selection')
    .argument('<matrix>', 'built-in matrix id (see "matrix list") or path of a matrix file')
    .option('--component <id>', 'component to select (repeatable or comma-separated; default: the default components)', collectCommaList, [])
    .option('--platform <id>', 'platform the components run on (default: their first common platform)')
    .option('--listeners', 'show the expected listeners (one line per transport and port) instead of rows')
    .option('--json', 'print JSON instead of a table')
    .action(async (ref: string, options: ShowOptions) => {
      const { matrix: m } = await loadMatrix(ref);
      if (options.listeners) showListeners(m, options);
      else showRows(m, options);
    });
}

function showRows(m: Matrix, options: ShowOptions): void {
  // Rows are filtered only when the user narrows them; otherwise the whole matrix is shown.
  const narrowed = options.component.length > 0 || options.platform !== undefined;
  const selection = narrowed ? resolveSelection(m, { components: options.component, platform: options.platform }) : undefined;
  const rows = selection ? m.rows.filter((row) => rowApplies(row, selection)) : m.rows;
  if (options.json) {
    writeJson({ matrix: matrixHeader(m), ...(selection ? { selection } : {}), rows });
    return;
  }
  const table = createTable(['row', 'component', 'direction', 'transport', 'ports', 'state', 'optional', 'condition', 'protocol', 'platforms', 'reference']);
  for (const row of rows) {
    addRow(table, [
      row.id,
      row.component,
      row.direction,
      row.transports.join('+'),
      row.configurable ? `${row.ports} (configurable ${row.configurable})` : row.ports,
      formatState(row.state),
      row.optional ? 'yes' : 'no',
      row.condition ? formatCondition(row.condition) : '',
      row.protocol,
      row.platforms?.join(', ') ?? 'all',
      formatReference(row),
    ]);
  }
  const scope = selection ? toTerminalText(` (components ${selection.components.join(', ')}; platform ${selection.platform})`) : '';
  process.stdout.write(`${title(m)}: ${count(rows.length, 'row')}${scope}\n${table.toString()}\n${formatDocumentNotes(m)}`);
}

function showListeners(m: Matrix, options: ShowOptions): void {
  const { selection, expectations } = selectExpectations(m, { components: options.component, platform: options.platform });
  if (options.json) {
    writeJson({ matrix: matrixHeader(m), selection, expectations });
    return;
  }
  const table = createTable(['transport', 'port', 'state', 'optional', 'notes', 'protocol', 'component', 'row', 'reference']);
  for (const expectation of expectations) {
    addRow(table, [
      expectation.transport,
      expectation.start === expectation.end ? `${expectation.start}` : `${expectation.start}-${expectation.end}`,
      formatState(expectation.state),
      expectation.optional ? 'yes' : 'no',
      expectationNotes(expectation),
      expectation.protocol,
      expectation.component,
      expectation.ref.rowId,
      `${expectation.ref.table} #${expectation.ref.row}`,
    ]);
  }
  process.stdout.write(
    `${title(m)}: ${count(expectations.length, 'expected listener')}${toTerminalText(` (components ${selection.components.join(', ')}; platform ${selection.platform})`)}\n` +
      `${table.toString()}\n`,
  );
}

function expectationNotes(expectation: Expectation): string {
  const notes: string[] = [];
  if (expectation.internal) notes.push('internal');
  if (expectation.dynamic) notes.push('dynamic');
  if (expectation.configurable) notes.push(`configurable ${formatPortSpec(expectation.configurable)}`);
  if (expectation.condition) notes.push(`only if ${formatCondition(expectation.condition)}`);
  return notes.join(', ');
}

/** The condition's kind and, shortened, the document's words it was read from. */
function formatCondition(condition: Condition): string {
  const words = condition.text.length > CONDITION_TEXT_SHOWN ? `${condition.text.slice(0, CONDITION_TEXT_SHOWN - 1)}…` : condition.text;
  return `${condition.kind}: "${words}"`;
}

const CONDITION_TEXT_SHOWN = 60;

/** The document's notes that change what a scan should expect, after the table. */
function formatDocumentNotes(m: Matrix): string {
  if (m.notes.length === 0) return '';
  const lines = m.notes.map((note) => `  ${note.kind}${note.line === undefined ? '' : ` (line ${note.line})`}: ${toTerminalText(note.text)}`);
  return `Document notes that change what a scan should expect:\n${lines.join('\n')}\n`;
}

function matrixHeader(m: Matrix): Record<string, unknown> {
  return { id: m.id, product: m.product, version: m.version, document: m.document, notes: m.notes };
}

function title(m: Matrix): string {
  return toTerminalText(`${m.product} ${m.version} (${m.id})`);
}

function formatState(state: DocumentedState): string {
  return typeof state === 'string' ? state : `"${state.conditional}"`;
}

function formatReference(row: MatrixRow): string {
  return `${row.ref.table} #${row.ref.row}`;
}

function registerValidateCommand(matrix: Command): void {
  matrix
    .command('validate')
    .description('check a matrix file against the schema; one line naming file:line:col on error (exit 2)')
    .argument('<file>', 'path of a matrix file (or a built-in matrix id)')
    .action(async (ref: string) => {
      const { matrix: m } = await loadMatrix(ref);
      process.stdout.write(
        `ok: ${count(m.rows.length, 'row')}, ${count(m.components.length, 'component')}, ${count(m.history.length, 'history entry', 'history entries')} (${toTerminalText(`${m.id}, ${ref}`)})\n`,
      );
    });
}
