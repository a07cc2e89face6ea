/**
 * The table reader: finds the port tables of a port-matrix text export and their rows, across
 * page breaks, repeated column headers, headings and notes. Pure; knows nothing of ports yet.
 */
import { findRepeatedFurniture, isPageFurniture, normalizeLines, type SourceLine } from './text.js';

/**
 * numbered: "No. | Default Destination Port | Protocol | Optional | State | External Device | Description | Notes"
 *   with INGRESS / EGRESS / INTRA-DEVICE section rows;
 * source-destination: "Source System | Port | Destination System | Port | Protocol | Optional | State | Description";
 * change-list: "No. | Added / Changed / Removed | Port | Protocol | New port | Notes".
 */
export type TableStyle = 'numbered' | 'source-destination' | 'change-list';

export interface RawRow {
  /** First line of the row in the input. */
  line: number;
  /** All lines the row was read from (more than one when it was split by a page break). */
  lines: number[];
  cells: string[];
  /** The section row above it: "INGRESS CONNECTIONS", "PORTS ADDED", ... ('' when none). */
  section: string;
  /** Change tables: "ADDED", "CHANGED", "REMOVED" from the "PORTS ..." row above ('' when none). */
  change: string;
  /** 1-based position of the row within its section (unnumbered tables: within the table). */
  position: number;
  repairs: string[];
}

export interface RawTable {
  /** "Table 1. Ports for IP Office Solution", or the section heading when the table has no title. */
  title: string;
  style: TableStyle;
  /** Under a "Port Table Changes" heading or titled "Port Changes ...": history, not current ports. */
  changes: boolean;
  line: number;
  rows: RawRow[];
  repeatedHeaders: number[];
}

export interface SkippedLine {
  line: number;
  table: string;
  reason: string;
}

export interface DocumentMeta {
  title?: string;
  product?: string;
  version?: string;
  issue?: string;
  date?: string;
}

export interface DocumentRead {
  meta: DocumentMeta;
  tables: RawTable[];
  skipped: SkippedLine[];
  /** Numbered notes after the tables ("1. Used when encryption is not required."). */
  notes: Map<string, string>;
  /** Lines of prose outside the tables and notes (read for document-level notes). */
  prose: { line: number; text: string }[];
  furnitureLines: number;
}

const SECTION_ROW = /^(?:[A-Z]+\s+)?(?:INGRESS|EGRESS|INTRA-DEVICE)\s+CONNECTIONS$|^PORTS\s+(?:ADDED|CHANGED|REMOVED)\b/iu;
const TABLE_TITLE = /^(?:#+\s*)?(Table\s+\d+\.?\s*.*)$/iu;
const HEADING = /^(?:#+\s*)?(\d+(?:\.\d+)*)\.?\s+(\S.*)$/u;
const APPENDIX = /^(?:#+\s*)?(Appendix\b.*)$/iu;

function isStructuralText(text: string): boolean {
  return SECTION_ROW.test(text) || TABLE_TITLE.test(text) || HEADING.test(text) || /^notes?:?$/iu.test(text);
}

function headerStyle(cells: readonly string[]): TableStyle | 'other' | undefined {
  if (cells.length < 3) return undefined;
  const first = cells[0]!;
  if (/^no\.?$/iu.test(first) && cells.some((cell) => /port/iu.test(cell))) {
    return cells.some((cell) => /added\s*\/\s*changed/iu.test(cell)) ? 'change-list' : 'numbered';
  }
  if (/^source\b/iu.test(first) && cells.some((cell) => /^destination\b/iu.test(cell))) return 'source-destination';
  if (/^component$/iu.test(first)) return 'other';
  return undefined;
}

function isSecondHeaderLine(cells: readonly string[]): boolean {
  return /^system$/iu.test(cells[0] ?? '') && /^port\b/iu.test(cells[1] ?? '');
}

function readMeta(lines: readonly SourceLine[]): DocumentMeta {
  const meta: DocumentMeta = {};
  const texts = lines.slice(0, 40).filter((line) => line.cells.length === 1).map((line) => line.cells[0]!.replace(/^#+\s*/u, '').trim())
    .filter((text) => !/^-+$/u.test(text));
  const titleIndex = texts.findIndex((text) => /port matrix/iu.test(text));
  if (titleIndex < 0) return meta;
  meta.title = texts[titleIndex]!.replace(/:\s*$/u, '');
  const afterColon = /port matrix\s*:\s*(.+)$/iu.exec(texts[titleIndex]!)?.[1];
  const product = (afterColon ?? texts[titleIndex + 1] ?? '').replace(/\[(.)\]/gu, '$1').trim();
  if (product && !/^issue\b/iu.test(product)) {
    meta.title = `${meta.title.replace(/:.*$/u, '')}: ${product}`;
    const version = /\s((?:R\d+(?:\.\d+)*)|(?:\d+(?:\.\d+)*(?:\.x)?))(?=\s|$)/u.exec(product);
    meta.product = product;
    if (version) {
      meta.version = version[1]!;
      meta.product = product.slice(0, version.index).trim() || product;
    }
  }
  const issueIndex = texts.findIndex((text) => /^issue\s+\S+/iu.test(text));
  if (issueIndex >= 0) {
    meta.issue = texts[issueIndex]!.replace(/^issue\s+/iu, '').trim();
    const date = texts[issueIndex + 1];
    if (date && /\b(?:19|20)\d{2}\b/u.test(date) && date.length < 40) meta.date = date;
  }
  return meta;
}

/** Where the reader is in the document, carried from line to line. */
interface ReaderState {
  read: Omit<DocumentRead, 'meta'>;
  repeated: ReadonlySet<string>;
  heading: string;
  /** Section number of a "Port Table Changes" heading while inside it. */
  changesHeading: string | undefined;
  pendingTitle: string | undefined;
  table: RawTable | undefined;
  /** Inside a non-port table ("Component | Protocol | Description"). */
  ignoring: boolean;
  inNotes: boolean;
  section: string;
  change: string;
  position: number;
}

/** Reads every table of a port-matrix document (text export). */
export function readDocument(input: string): DocumentRead {
  const lines = normalizeLines(input);
  const state: ReaderState = {
    read: { tables: [], skipped: [], notes: new Map(), prose: [], furnitureLines: 0 },
    repeated: findRepeatedFurniture(lines, isStructuralText),
    heading: '',
    changesHeading: undefined,
    pendingTitle: undefined,
    table: undefined,
    ignoring: false,
    inNotes: false,
    section: '',
    change: '',
    position: 0,
  };
  for (const line of lines) {
    if (line.cells.length === 0) continue;
    if (isPageFurniture(line) || (line.cells.length === 1 && state.repeated.has(line.cells[0]!))) {
      state.read.furnitureLines += 1;
      continue;
    }
    const single = line.cells.every((cell, index) => index === 0 || cell === '');
    if (single && line.cells[0] !== '') readSingleCellLine(state, line.cells[0]!, line.number);
    else readTableLine(state, line);
  }
  return { meta: readMeta(lines), ...state.read };
}

function closeTable(state: ReaderState): void {
  state.table = undefined;
  state.ignoring = false;
}

function enterSection(state: ReaderState, text: string): void {
  const upper = text.toUpperCase();
  const changeWord = /^PORTS\s+(ADDED|CHANGED|REMOVED)\b/u.exec(upper);
  if (changeWord) {
    state.change = changeWord[1]!;
    state.section = '';
  } else state.section = upper;
  state.position = 0;
}

/** A line with one cell: a table title, a heading, a note, a section row, or prose. */
function readSingleCellLine(state: ReaderState, text: string, lineNumber: number): void {
  const title = TABLE_TITLE.exec(text);
  if (title) {
    closeTable(state);
    state.inNotes = false;
    state.pendingTitle = title[1]!.replace(/\s+/gu, ' ').trim();
    return;
  }
  if (state.inNotes) {
    const note = /^(?:-\s*)?(\d+)[.)]?\s+(.+)$/u.exec(text);
    if (note) {
      state.read.notes.set(note[1]!, note[2]!);
      return;
    }
  }
  const headingMatch = HEADING.exec(text);
  const appendix = APPENDIX.exec(text);
  if ((headingMatch && !/\.$/u.test(text) && text.length < 120) || appendix) {
    closeTable(state);
    state.inNotes = false;
    state.pendingTitle = undefined;
    const number = headingMatch?.[1];
    state.heading = (headingMatch ? `${headingMatch[1]} ${headingMatch[2]}` : appendix![1]!).trim();
    if (/port table changes|changes/iu.test(state.heading)) state.changesHeading = number ?? state.heading;
    else if (state.changesHeading !== undefined && !(number && number.startsWith(`${state.changesHeading}.`))) state.changesHeading = undefined;
    return;
  }
  if (/^notes?:?$/iu.test(text)) {
    closeTable(state);
    state.inNotes = true;
    return;
  }
  if (state.table && SECTION_ROW.test(text)) {
    enterSection(state, text);
    return;
  }
  if (state.inNotes) return;
  // Prose after a table ends it; prose is kept for the document-level notes.
  closeTable(state);
  state.read.prose.push({ line: lineNumber, text });
}

/** A line with several cells: a table header, a section row, a table row or the rest of one. */
function readTableLine(state: ReaderState, line: SourceLine): void {
  const cells = line.cells;
  const style = headerStyle(cells);
  if (style === 'other') {
    closeTable(state);
    state.ignoring = true;
    return;
  }
  if (style) {
    openTable(state, style, line.number);
    return;
  }
  const table = state.table;
  if (state.ignoring || !table) return;
  if (table.style === 'source-destination' && isSecondHeaderLine(cells)) return;
  if (SECTION_ROW.test(cells[0]!)) {
    enterSection(state, cells[0]!);
    return;
  }
  if (cells.every((cell) => cell === '' || /^-+$/u.test(cell))) {
    state.read.skipped.push({ line: line.number, table: table.title, reason: 'a line of dashes inside the table, not a row; skipped' });
    return;
  }
  const previous = table.rows[table.rows.length - 1];
  if (cells[0] === '' && previous) {
    joinContinuation(previous, cells, line.number);
    return;
  }
  state.position += 1;
  table.rows.push({ line: line.number, lines: [line.number], cells: [...cells], section: state.section, change: state.change, position: state.position, repairs: [] });
}

/** A column header: a new table, or the same header repeated after a page break. */
function openTable(state: ReaderState, style: TableStyle, lineNumber: number): void {
  if (state.table && state.table.style === style && state.pendingTitle === undefined) {
    state.table.repeatedHeaders.push(lineNumber);
    return;
  }
  const changes = state.changesHeading !== undefined || /\bchanges?\b/iu.test(state.pendingTitle ?? '');
  state.table = {
    title: state.pendingTitle ?? (state.heading || `Table at line ${lineNumber}`),
    style,
    changes,
    line: lineNumber,
    rows: [],
    repeatedHeaders: [],
  };
  state.read.tables.push(state.table);
  state.ignoring = false;
  state.pendingTitle = undefined;
  state.section = '';
  state.change = '';
  state.position = 0;
}

/** A row split by a page break: its remainder starts with an empty first cell. */
function joinContinuation(previous: RawRow, cells: readonly string[], lineNumber: number): void {
  cells.forEach((cell, index) => {
    if (cell === '') return;
    const before = previous.cells[index] ?? '';
    while (previous.cells.length <= index) previous.cells.push('');
    previous.cells[index] = before === '' ? cell : `${before} ${cell}`;
  });
  previous.lines.push(lineNumber);
  previous.repairs.push(`row continues on line ${lineNumber} after a page break; the two parts were joined`);
}
