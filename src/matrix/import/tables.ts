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

/** Reads every table of a port-matrix document (text export). */
export function readDocument(input: string): DocumentRead {
  const lines = normalizeLines(input);
  const repeated = findRepeatedFurniture(lines, isStructuralText);
  const tables: RawTable[] = [];
  const skipped: SkippedLine[] = [];
  const notes = new Map<string, string>();
  let furnitureLines = 0;

  let heading = '';
  let changesHeading: string | undefined; // section number of a "Port Table Changes" heading
  let pendingTitle: string | undefined;
  let table: RawTable | undefined;
  let ignoring = false; // inside a non-port table ("Component | Protocol | Description")
  let inNotes = false;
  let section = '';
  let change = '';
  let position = 0;

  const enterSection = (text: string): void => {
    const upper = text.toUpperCase();
    const changeWord = /^PORTS\s+(ADDED|CHANGED|REMOVED)\b/u.exec(upper);
    if (changeWord) {
      change = changeWord[1]!;
      section = '';
    } else section = upper;
    position = 0;
  };

  const closeTable = (): void => {
    table = undefined;
    ignoring = false;
  };

  for (const line of lines) {
    if (line.cells.length === 0) continue;
    if (isPageFurniture(line) || (line.cells.length === 1 && repeated.has(line.cells[0]!))) {
      furnitureLines += 1;
      continue;
    }
    const cells = line.cells;
    const first = cells[0]!;
    const single = cells.every((cell, index) => index === 0 || cell === '');

    if (single && first !== '') {
      const title = TABLE_TITLE.exec(first);
      const headingMatch = HEADING.exec(first);
      const appendix = APPENDIX.exec(first);
      if (title) {
        closeTable();
        inNotes = false;
        pendingTitle = title[1]!.replace(/\s+/gu, ' ').trim();
        continue;
      }
      if (inNotes) {
        const note = /^(?:-\s*)?(\d+)[.)]?\s+(.+)$/u.exec(first);
        if (note) {
          notes.set(note[1]!, note[2]!);
          continue;
        }
      }
      if ((headingMatch && !/\.$/u.test(first) && first.length < 120) || appendix) {
        closeTable();
        inNotes = false;
        pendingTitle = undefined;
        const number = headingMatch?.[1];
        heading = (headingMatch ? `${headingMatch[1]} ${headingMatch[2]}` : appendix![1]!).trim();
        if (/port table changes|changes/iu.test(heading)) changesHeading = number ?? heading;
        else if (changesHeading !== undefined && !(number && number.startsWith(`${changesHeading}.`))) changesHeading = undefined;
        continue;
      }
      if (/^notes?:?$/iu.test(first)) {
        closeTable();
        inNotes = true;
        continue;
      }
      if (table && SECTION_ROW.test(first)) {
        enterSection(first);
        continue;
      }
      if (inNotes) continue;
      if (table) {
        // Prose after a table ends it.
        closeTable();
      }
      continue;
    }

    const style = headerStyle(cells);
    if (style === 'other') {
      closeTable();
      ignoring = true;
      continue;
    }
    if (style) {
      if (table && table.style === style && pendingTitle === undefined) {
        table.repeatedHeaders.push(line.number);
        continue;
      }
      const changes = changesHeading !== undefined || /\bchanges?\b/iu.test(pendingTitle ?? '');
      table = {
        title: pendingTitle ?? (heading || `Table at line ${line.number}`),
        style,
        changes,
        line: line.number,
        rows: [],
        repeatedHeaders: [],
      };
      tables.push(table);
      ignoring = false;
      pendingTitle = undefined;
      section = '';
      change = '';
      position = 0;
      continue;
    }
    if (ignoring || !table) continue;
    if (table.style === 'source-destination' && isSecondHeaderLine(cells)) continue;
    if (SECTION_ROW.test(first)) {
      enterSection(first);
      continue;
    }
    if (cells.every((cell) => cell === '' || /^-+$/u.test(cell))) {
      skipped.push({ line: line.number, table: table.title, reason: 'a line of dashes inside the table, not a row; skipped' });
      continue;
    }
    const previous = table.rows[table.rows.length - 1];
    if (first === '' && previous) {
      // A row split by a page break: its remainder starts with an empty first cell.
      cells.forEach((cell, index) => {
        if (cell === '') return;
        const before = previous.cells[index] ?? '';
        while (previous.cells.length <= index) previous.cells.push('');
        previous.cells[index] = before === '' ? cell : `${before} ${cell}`;
      });
      previous.lines.push(line.number);
      previous.repairs.push(`row continues on line ${line.number} after a page break; the two parts were joined`);
      continue;
    }
    position += 1;
    table.rows.push({ line: line.number, lines: [line.number], cells: [...cells], section, change, position, repairs: [] });
  }
  return { meta: readMeta(lines), tables, skipped, notes, furnitureLines };
}
