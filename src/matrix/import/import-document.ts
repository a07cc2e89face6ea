/**
 * Document -> matrix draft + import report. Pure: text in, data out. Every repair is recorded on the
 * row (as a note) and in the report; rows that cannot be read without a human are reported with
 * their line numbers and left out, unless an override supplies what the document does not.
 */
import { PortmatrixError } from '../../errors.js';
import { matrixSchema, type DocumentNote, type HistoryEntry, type Matrix, type MatrixRow } from '../model.js';
import { parsePortCell } from './cells.js';
import { readHistory } from './history-rows.js';
import { createReport, type ImportContext, type ImportOptions, type ImportResult, type TableContext } from './import-model.js';
import type { MatrixOverrides, RowOverride } from './overrides.js';
import { importPortRow } from './port-rows.js';
import { findDocumentNotes } from './prose-rules.js';
import { rowKey } from './row-cells.js';
import { readDocument, type DocumentRead, type RawTable } from './tables.js';
import { looksBinary } from './text.js';

export type { ImportOptions, ImportReport, ImportResult, ReportedRow } from './import-model.js';

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[®™]/gu, '')
    .replace(/[^a-z0-9.]+/gu, '-')
    .replace(/^-+|-+$/gu, '')
    .replace(/\.+$/u, '')
    .slice(0, 48) || 'matrix';
}

function notAPortMatrix(source: string, why: string): PortmatrixError {
  return new PortmatrixError('E_IMPORT', `${source}: not a port matrix: ${why}`, {
    hint: 'give the text export of a vendor port-matrix document, with its tab-separated tables',
  });
}

export function importMatrixDocument(text: string, options: ImportOptions = {}): ImportResult {
  const source = options.sourceName ?? 'document';
  const read = readPortMatrix(text, source);
  const overrides = options.overrides;
  const { components, platforms, tables } = assignTables(read, options);
  const overrideFinder = createOverrideFinder(overrides, source);
  const context: ImportContext = {
    source,
    read,
    overrides,
    descriptions: overrides?.descriptions ?? 'document',
    report: createReport(read, source),
    findOverride: overrideFinder.find,
    rows: [],
    rowIds: new Set(),
    history: [],
  };
  for (const table of read.tables) importTable(context, table, tables.get(table)!);
  overrideFinder.assertAllUsed();
  const notes = findDocumentNotes(read.prose);
  context.report.documentNotes = notes.map(({ rule, note }) => ({ rule, line: note.line ?? 0, text: note.text }));
  return { matrix: finishMatrix(context, options, { components, platforms, notes: notes.map((hit) => hit.note) }), report: context.report };
}

/** Reads the tables, or says why the text is not a port matrix. */
function readPortMatrix(text: string, source: string): DocumentRead {
  if (text.trim() === '') throw notAPortMatrix(source, 'the file is empty');
  if (looksBinary(text)) throw notAPortMatrix(source, 'the file is binary, not text');
  const read = readDocument(text);
  if (read.tables.filter((table) => !table.changes).every((table) => table.rows.length === 0)) {
    throw notAPortMatrix(source, 'no port table found (no "No. | Default Destination Port ..." or "Source | Destination ..." header)');
  }
  return read;
}

/** Components and platforms (from the overrides, or one component per port table), and each table's context. */
function assignTables(
  read: DocumentRead,
  options: ImportOptions,
): { components: Matrix['components']; platforms: Matrix['platforms']; tables: Map<RawTable, TableContext> } {
  const overrides = options.overrides;
  const globalSelf = options.self ?? overrides?.self ?? [];
  const components: Matrix['components'] = overrides ? overrides.components.map((component) => ({ ...component })) : [];
  const platforms: Matrix['platforms'] = overrides ? overrides.platforms.map((platform) => ({ ...platform })) : [{ id: 'any', name: 'Any platform' }];
  const assigned = new Map<RawTable, Omit<TableContext, 'idPrefix'>>();
  for (const table of read.tables) {
    const rule = overrides?.tables.find((candidate) => table.title.toLowerCase().includes(candidate.match.toLowerCase()));
    const self = options.self ?? rule?.self ?? globalSelf;
    const systems = [...(rule?.systems ?? []), ...(overrides?.systems ?? [])];
    const fallback = components.find((component) => component.default) ?? components[0];
    let component = rule?.component ?? (overrides ? fallback?.id : undefined);
    if (component === undefined && !table.changes) component = addTableComponent(components, table.title);
    assigned.set(table, { component: component ?? '', self, systems });
  }
  const tablesOf = new Map<string, number>();
  for (const [table, { component }] of assigned) if (!table.changes) tablesOf.set(component, (tablesOf.get(component) ?? 0) + 1);
  const tables = new Map<RawTable, TableContext>();
  read.tables.forEach((table, index) => {
    const context = assigned.get(table)!;
    tables.set(table, { ...context, idPrefix: tablesOf.get(context.component) === 1 ? context.component : `t${index + 1}` });
  });
  return { components, platforms, tables };
}

/** Without overrides, a port table is a component of its own, named after its title. */
function addTableComponent(components: Matrix['components'], title: string): string {
  let componentId = slug(title.replace(/^table\s+\d+\.?\s*(ports?\s+for\s+)?/iu, '').replace(/^[\d.]+\s+/u, ''));
  while (components.some((component) => component.id === componentId && component.name !== title)) componentId += '-2';
  if (!components.some((component) => component.id === componentId)) {
    components.push({ id: componentId, name: title, platforms: ['any'], default: components.length === 0 });
  }
  return componentId;
}

/** Looks up the override of a row, and checks at the end that every override matched a row. */
function createOverrideFinder(overrides: MatrixOverrides | undefined, source: string) {
  const used = new Set<number>();
  return {
    find(table: RawTable, key: string): RowOverride | undefined {
      const index = overrides?.rows.findIndex(
        (candidate) => table.title.toLowerCase().includes(candidate.table.toLowerCase()) && candidate.row.toLowerCase() === key.toLowerCase(),
      );
      if (index === undefined || index < 0) return undefined;
      used.add(index);
      return overrides!.rows[index]!;
    },
    assertAllUsed(): void {
      overrides?.rows.forEach((candidate, index) => {
        if (!used.has(index)) {
          throw new PortmatrixError('E_IMPORT', `${source}: override for "${candidate.table}" row ${candidate.row} matches no row`, {
            hint: 'check the table title and the row key in the overrides file',
          });
        }
      });
    },
  };
}

/** Every row of one table: skipped, read once when duplicated, history, or a port row. */
function importTable(context: ImportContext, table: RawTable, tableContext: TableContext): void {
  const seen = new Map<string, MatrixRow | HistoryEntry>();
  for (const raw of table.rows) {
    const key = rowKey(table, raw);
    const ref = { table: table.title, row: key, line: raw.line };
    const portColumn = table.style === 'numbered' ? 1 : table.style === 'change-list' ? 2 : 3;
    if (parsePortCell(raw.cells[portColumn] ?? '').kind === 'none' && raw.cells.slice(2).every((cell) => cell === '')) {
      context.report.skipped.push({ line: raw.line, table: table.title, reason: `row ${key} says "None": the section lists no ports` });
      continue;
    }
    const signature = raw.cells.slice(table.style === 'numbered' ? 1 : 0).join('\t').toLowerCase();
    const duplicateOf = seen.get(signature);
    if (duplicateOf) {
      const first = duplicateOf.ref;
      (duplicateOf.notes ??= []).push(`listed twice in the document (lines ${first.line} and ${raw.line}); read once`);
      context.report.repaired.push({ line: raw.line, table: table.title, row: key, repairs: [`duplicate of row ${first.row} (line ${first.line}); read once`] });
      continue;
    }
    if (table.changes) {
      const entry = readHistory(table, raw, tableContext.self, ref, context.descriptions);
      context.history.push(entry);
      seen.set(signature, entry);
      context.report.historyEntries += 1;
      continue;
    }
    const row = importPortRow(context, table, tableContext, raw, key);
    if (row) seen.set(signature, row);
  }
}

/** The matrix, checked by the schema: an invalid one is the overrides' fault (or the options'). */
function finishMatrix(
  context: ImportContext,
  options: ImportOptions,
  parts: { components: Matrix['components']; platforms: Matrix['platforms']; notes: DocumentNote[] },
): Matrix {
  const { read, overrides, source } = context;
  const product = options.product ?? overrides?.product ?? read.meta.product ?? 'Unknown product';
  const version = options.version ?? overrides?.version ?? read.meta.version ?? 'unknown';
  const issue = overrides?.document?.issue ?? read.meta.issue;
  const date = overrides?.document?.date ?? read.meta.date;
  const matrixInput = {
    schemaVersion: 1 as const,
    id: options.id ?? overrides?.id ?? slug(`${product}-${version}`),
    product,
    version,
    document: {
      title: overrides?.document?.title ?? read.meta.title ?? `${product} ${version} port matrix`,
      ...(issue ? { issue } : {}),
      ...(date ? { date } : {}),
      ...(options.sourceName ? { source: options.sourceName } : {}),
    },
    platforms: parts.platforms,
    components: parts.components,
    notes: parts.notes,
    rows: context.rows,
    history: context.history,
  };
  const parsed = matrixSchema.safeParse(matrixInput);
  if (!parsed.success) {
    const problem = parsed.error.issues[0]!;
    throw new PortmatrixError('E_IMPORT', `${source}: the imported matrix is invalid at ${problem.path.join('.')}: ${problem.message}`, {
      hint: 'fix the overrides or pass --product/--version',
    });
  }
  return parsed.data;
}
