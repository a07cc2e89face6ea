/**
 * Input normalisation: the same document exported differently (CRLF, non-breaking spaces,
 * tabs turned into runs of spaces, page footers removed, markdown emphasis) reads as the same lines.
 * Pure; line numbers always refer to the input as given.
 */

export interface SourceLine {
  /** 1-based line number in the input. */
  number: number;
  /** The line with markup removed, cells joined by a tab. */
  text: string;
  /** Cells split at tabs (or at runs of two or more spaces); leading empty cells are kept. */
  cells: string[];
}

const NON_BREAKING_SPACES = /[\u00a0\u2007\u202f\u2060\ufeff]/gu;

/** Line breaks of any platform. */
export function splitLines(text: string): string[] {
  return text.replace(/\r\n?/gu, '\n').split('\n');
}

function stripMarkup(line: string): string {
  return line
    .replace(NON_BREAKING_SPACES, ' ')
    // Control characters are no part of a port table; kept, they would reach the draft and the terminal.
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu, '')
    .replace(/\*\*/gu, '')
    .replace(/<\/?(?:sup|sub|p|br)\s*\/?>/giu, '')
    .replace(/[ \t]+$/u, '');
}

/**
 * How many spaces stood for one tab in a re-export: the shortest run of two or more spaces
 * between two words, over the whole document. Undefined when the document has real tabs only.
 */
function estimateSpacesPerTab(lines: readonly string[]): number | undefined {
  let shortest: number | undefined;
  for (const line of lines) {
    if (line.includes('\t')) continue;
    for (const match of line.matchAll(/ {2,}/gu)) {
      if (match.index === 0) continue; // leading runs may stand for several tabs
      shortest = shortest === undefined ? match[0].length : Math.min(shortest, match[0].length);
    }
  }
  return shortest;
}

/** A run of spaces -> as many tabs as it stands for (empty cells survive the re-export). */
function spacesToTabs(line: string, spacesPerTab: number): string {
  return line.replace(/ {2,}/gu, (run) => '\t'.repeat(Math.max(1, Math.round(run.length / spacesPerTab))));
}

function splitCells(text: string): string[] {
  return text.split('\t').map((cell) => cell.replace(/\s+/gu, ' ').trim());
}

export function normalizeLines(input: string): SourceLine[] {
  const raw = splitLines(input.replace(/^\ufeff/u, '')).map(stripMarkup);
  const spacesPerTab = estimateSpacesPerTab(raw);
  return raw.map((line, index) => {
    const text = !line.includes('\t') && spacesPerTab !== undefined ? spacesToTabs(line, spacesPerTab) : line;
    return { number: index + 1, text, cells: text.trim() === '' ? [] : splitCells(text) };
  });
}

/** True when a line is page furniture: a header or footer repeated on every page. */
const FURNITURE = [
  /^avaya\s*[–—-]\s*proprietary\.?$/iu,
  /^use pursuant to the terms of your signed agreement or avaya policy\.?$/iu,
  /^avaya$/iu,
  /^page \d+( of \d+)?$/iu,
  /^-{3,}$/u,
];

export function isPageFurniture(line: SourceLine): boolean {
  if (line.cells.length !== 1) return false;
  const text = line.cells[0]!;
  return FURNITURE.some((pattern) => pattern.test(text));
}

/** Lines that repeat on many pages (headers and footers of an unknown document), found by counting. */
export function findRepeatedFurniture(lines: readonly SourceLine[], isStructural: (text: string) => boolean): Set<string> {
  const counts = new Map<string, number>();
  for (const line of lines) {
    if (line.cells.length !== 1) continue;
    const text = line.cells[0]!;
    if (text.length > 120 || isStructural(text)) continue;
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return new Set([...counts].filter(([, count]) => count >= 4).map(([text]) => text));
}

/** True when the input looks like binary data rather than text. */
export function looksBinary(input: string): boolean {
  if (input.includes('\u0000')) return true;
  const sample = input.slice(0, 8192);
  if (sample.length === 0) return false;
  let odd = 0;
  for (const character of sample) {
    const code = character.codePointAt(0)!;
    if (character === '\ufffd' || (code < 32 && code !== 9 && code !== 10 && code !== 13 && code !== 12)) odd += 1;
  }
  return odd / sample.length > 0.05;
}
