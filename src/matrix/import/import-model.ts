/**
 * The import's vocabulary: its options, the report a reviewer reads, and the context the row
 * steps (port-rows.ts, history-rows.ts) share during one import.
 */
import type { ConditionKind, HistoryEntry, Matrix, MatrixRow } from '../model.js';
import type { MatrixOverrides, RowOverride } from './overrides.js';
import type { DocumentRead, RawTable } from './tables.js';

export interface ImportOptions {
  /** File name recorded as document.source and used in messages. */
  sourceName?: string;
  id?: string;
  product?: string;
  version?: string;
  /** Names of the product's own systems, for source/destination tables ("CMS,AACC/ACCS"). */
  self?: string[];
  overrides?: MatrixOverrides;
}

export interface ReportedRow {
  line: number;
  table: string;
  row: string;
}

export interface ImportReport {
  source: string;
  tables: { title: string; style: RawTable['style']; kind: 'ports' | 'changes'; line: number; rows: number }[];
  /** Rows of current port tables that made it into the matrix. */
  rowsRead: number;
  historyEntries: number;
  repaired: (ReportedRow & { repairs: string[] })[];
  overridden: (ReportedRow & { reason: string })[];
  /** Rows a human must look at: they are not in the matrix. */
  unreadable: (ReportedRow & { problems: string[] })[];
  /** Listener rows the document makes conditional in prose, with the rule that fired (or "override"). */
  conditional: (ReportedRow & { rule: string; kind: ConditionKind; text: string })[];
  /** Listener rows whose destination names systems of several components, and the components they were attached to. */
  multiSystem: (ReportedRow & { systems: string[]; components: string[] })[];
  /** Rows whose words contradict their columns; `decision` is the override's reason, or "undecided". */
  contradictions: (ReportedRow & { rule: string; text: string; decision: string; quote?: string })[];
  /** Prose outside the tables that changes what a scan should expect. */
  documentNotes: { rule: string; line: number; text: string }[];
  skipped: { line: number; table: string; reason: string }[];
  /** Pages headers and footers, repeated column headers: removed, not rows. */
  furnitureLines: number;
  repeatedHeaders: number;
}

export interface ImportResult {
  matrix: Matrix;
  report: ImportReport;
}

/** What the import knows about one table: its component, the product's own systems, its key for row ids. */
export interface TableContext {
  component: string;
  self: string[];
  /** System name -> component, for destination cells that name several systems. */
  systems: { match: string; component: string }[];
  /** Prefix of row ids: the component when it has one table, else t<n>. */
  idPrefix: string;
}

/** Everything the row steps share during one import. */
export interface ImportContext {
  source: string;
  read: DocumentRead;
  overrides: MatrixOverrides | undefined;
  descriptions: 'document' | 'summary';
  report: ImportReport;
  findOverride: (table: RawTable, key: string) => RowOverride | undefined;
  rows: MatrixRow[];
  rowIds: Set<string>;
  history: HistoryEntry[];
}

export function createReport(read: DocumentRead, source: string): ImportReport {
  return {
    source,
    tables: read.tables.map((table) => ({
      title: table.title,
      style: table.style,
      kind: table.changes ? 'changes' : 'ports',
      line: table.line,
      rows: table.rows.length,
    })),
    rowsRead: 0,
    historyEntries: 0,
    repaired: [],
    overridden: [],
    unreadable: [],
    conditional: [],
    multiSystem: [],
    contradictions: [],
    documentNotes: [],
    skipped: [...read.skipped],
    furnitureLines: read.furnitureLines,
    repeatedHeaders: read.tables.reduce((sum, table) => sum + table.repeatedHeaders.length, 0),
  };
}
