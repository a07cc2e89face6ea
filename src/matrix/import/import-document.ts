/**
 * Document -> matrix draft + import report. Pure: text in, data out. Every repair is recorded on the
 * row (as a note) and in the report; rows that cannot be read without a human are reported with
 * their line numbers and left out, unless an override supplies what the document does not.
 */
import { PortmatrixError } from '../../errors.js';
import type { Transport } from '../../model/port-state.js';
import {
  matrixSchema,
  type Condition,
  type ConditionKind,
  type DocumentedState,
  type Direction,
  type DocumentNote,
  type HistoryEntry,
  type Matrix,
  type MatrixRow,
} from '../model.js';
import { countPorts, parsePortSpec } from '../../model/port-range.js';
import {
  cleanProtocolText,
  parsePortCell,
  parseState,
  parseTransports,
  parseYesNo,
  stripNoteMarkers,
  type PortCellParse,
} from './cells.js';
import type { MatrixOverrides, RowOverride, RowPatch } from './overrides.js';
import { findCondition, findContradiction, findDocumentNotes, splitSystems, type Contradiction, type RowProse } from './prose-rules.js';
import { readDocument, type DocumentRead, type RawRow, type RawTable } from './tables.js';
import { looksBinary } from './text.js';

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

// ---------------------------------------------------------------- helpers

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[®™]/gu, '')
    .replace(/[^a-z0-9.]+/gu, '-')
    .replace(/^-+|-+$/gu, '')
    .replace(/\.+$/u, '')
    .slice(0, 48) || 'matrix';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
}

function matchesSystem(system: string, self: readonly string[]): boolean {
  return self.some((name) => new RegExp(`(^|[^a-z0-9])${escapeRegExp(name)}($|[^a-z0-9])`, 'iu').test(system));
}

const MEDIA = /\b(?:s?rtcp?|s?rtp|srtc|media|voice|audio|video)\b/iu;
const INTERNAL_ONLY = /\binternal only\b|\binternal communication only\b/iu;

function sectionDirection(section: string): Direction | undefined {
  if (/INTRA-DEVICE/u.test(section)) return 'intra-device';
  if (/INGRESS/u.test(section)) return 'ingress';
  if (/EGRESS/u.test(section)) return 'egress';
  return undefined;
}

function sectionLabel(direction: Direction | undefined): string {
  return direction === 'intra-device' ? 'Intra-device' : direction === 'egress' ? 'Egress' : 'Ingress';
}

function rowKey(table: RawTable, row: RawRow): string {
  if (table.style === 'numbered') {
    const number = row.cells[0] && /^\d+$/u.test(row.cells[0]) ? row.cells[0] : String(row.position);
    const group = row.change ? `${row.change.charAt(0)}${row.change.slice(1).toLowerCase()} ` : '';
    const direction = sectionDirection(row.section);
    const prefix = row.section && direction ? `${sectionLabel(direction)} ` : '';
    return `${group}${prefix}${number}`.trim();
  }
  return String(row.position);
}

/** Puts a missing column back: the Yes/No cell must sit at `optionalIndex`. */
function alignCells(cells: readonly string[], optionalIndex: number, protocolIndex: number): { cells: string[]; repair?: string } {
  const isYesNo = (cell: string | undefined): boolean => cell !== undefined && parseYesNo(cell).value !== undefined;
  if (isYesNo(cells[optionalIndex])) return { cells: [...cells] };
  if (isYesNo(cells[optionalIndex - 1]) && parseState(cells[optionalIndex] ?? '').state !== undefined) {
    const aligned = [...cells];
    aligned.splice(protocolIndex, 0, '');
    return { cells: aligned, repair: 'the protocol column is missing (the cells after the port are shifted left); realigned' };
  }
  return { cells: [...cells] };
}

/** A cell the row cannot be read without; `code` says which override field resolves it. */
interface CellProblem {
  code: 'no-port' | 'bad-port' | 'no-transport' | 'no-optional' | 'no-state';
  message: string;
}

interface ReadRow {
  tableStyle: RawTable['style'];
  direction: Direction;
  portCell: PortCellParse;
  portWritten: string;
  transports: Transport[];
  protocol: string;
  optional?: boolean;
  state?: DocumentedState;
  peer: string;
  descriptionText: string;
  notesText: string;
  noteRefs: string[];
  repairs: string[];
  problems: CellProblem[];
  /** The row's words, for the prose rules. */
  prose: RowProse;
  /** Text searched by platform rules and quotes. */
  haystack: string;
}

/** The cells of a row by meaning, whatever the table style, before they are parsed. */
interface RowColumns {
  cells: string[];
  direction: Direction;
  portCell: PortCellParse;
  portWritten: string;
  portInSourceColumn: boolean;
  peer: string;
  source: string;
  destination: string;
  protocolCell: string;
  optionalCell: string;
  stateCell: string;
  descriptionText: string;
  notesText: string;
  repairs: string[];
}

/** Numbered tables: No. | Port | Protocol | Optional | State | External device | Description | Notes. */
function readNumberedColumns(row: RawRow): RowColumns {
  const repairs: string[] = [];
  const aligned = alignCells(row.cells, 3, 2);
  if (aligned.repair) repairs.push(aligned.repair);
  const cells = aligned.cells;
  const portWritten = cells[1] ?? '';
  const portCell = parsePortCell(portWritten);
  repairs.push(...portCell.repairs);
  const direction = sectionDirection(row.section);
  if (!direction) repairs.push('no INGRESS / EGRESS / INTRA-DEVICE heading above the row; read as ingress');
  const peer = cells[5] ?? '';
  return {
    cells,
    direction: direction ?? 'ingress',
    portCell,
    portWritten,
    portInSourceColumn: false,
    peer,
    source: peer,
    destination: '',
    protocolCell: cells[2] ?? '',
    optionalCell: cells[3] ?? '',
    stateCell: cells[4] ?? '',
    descriptionText: cells[6] ?? '',
    notesText: cells[7] ?? '',
    repairs,
  };
}

/** Source/destination tables: a listener when the destination is one of the product's own systems. */
function readSourceDestinationColumns(row: RawRow, self: readonly string[]): RowColumns {
  const repairs: string[] = [];
  const aligned = alignCells(row.cells, 5, 4);
  if (aligned.repair) repairs.push(aligned.repair);
  const cells = aligned.cells;
  const [sourceSystem = '', sourcePort = '', destinationSystem = '', destinationPort = ''] = cells;
  const descriptionText = cells[7] ?? '';
  const destinationSelf = matchesSystem(destinationSystem, self);
  // The documents' own definition: intra-device ports need no firewall rule; they say so per row.
  const direction: Direction = destinationSelf && INTERNAL_ONLY.test(descriptionText) ? 'intra-device' : destinationSelf ? 'ingress' : 'egress';
  const destination = parsePortCell(destinationPort);
  const source = parsePortCell(sourcePort);
  const useSource = destination.kind !== 'ports' && !destination.error && (source.kind === 'ports' || source.error !== undefined);
  const portCell = useSource ? source : destination;
  if (useSource) {
    const destinationWord = destination.kind === 'empty' ? 'empty' : `"${destinationPort}"`;
    repairs.push(`the port is written in the source column ("${sourcePort}") and the destination port is ${destinationWord}; read as the port of the row`);
  }
  repairs.push(...portCell.repairs);
  const other = useSource ? destination : source;
  repairs.push(...other.repairs.map((text) => `${useSource ? 'destination' : 'source'} port: ${text}`));
  return {
    cells,
    direction,
    portCell,
    portWritten: useSource ? sourcePort : destinationPort,
    portInSourceColumn: useSource,
    peer: direction === 'egress' ? destinationSystem : sourceSystem,
    source: sourceSystem,
    destination: destinationSystem,
    protocolCell: cells[4] ?? '',
    optionalCell: cells[5] ?? '',
    stateCell: cells[6] ?? '',
    descriptionText,
    notesText: '',
    repairs,
  };
}

function readCells(table: RawTable, row: RawRow, self: readonly string[], documentNotes: ReadonlyMap<string, string>): ReadRow {
  const columns = table.style === 'numbered' ? readNumberedColumns(row) : readSourceDestinationColumns(row, self);
  const repairs: string[] = [...row.repairs, ...columns.repairs];
  const problems: CellProblem[] = [];
  const { portCell, portWritten } = columns;
  const noteRefs = [...portCell.notes];
  if (portCell.error) problems.push({ code: 'bad-port', message: portCell.error });
  else if (portCell.kind !== 'ports') problems.push({ code: 'no-port', message: portWritten === '' ? 'no port in the row' : `no port number in "${portWritten}"` });
  const transports = parseTransports(columns.protocolCell);
  repairs.push(...transports.repairs);
  if (transports.error) problems.push({ code: 'no-transport', message: transports.error });
  const optional = parseYesNo(columns.optionalCell);
  repairs.push(...optional.repairs);
  if (optional.error) problems.push({ code: 'no-optional', message: optional.error });
  const state = parseState(columns.stateCell);
  repairs.push(...state.repairs);
  if (state.error) problems.push({ code: 'no-state', message: state.error });
  const { protocolCell, optionalCell, stateCell, descriptionText, notesText, peer } = columns;
  for (const cell of [protocolCell, optionalCell, stateCell, descriptionText, notesText, peer]) {
    for (const note of stripNoteMarkers(cell).notes) if (!noteRefs.includes(note)) noteRefs.push(note);
  }
  const description = stripNoteMarkers(descriptionText).text;
  const notes = stripNoteMarkers(notesText).text;
  const selfSource = table.style !== 'numbered' && matchesSystem(columns.source, self);
  return {
    tableStyle: table.style,
    direction: columns.direction,
    portCell,
    portWritten,
    transports: transports.transports,
    protocol: cleanProtocolText(protocolCell),
    ...(optional.value === undefined ? {} : { optional: optional.value }),
    ...(state.state === undefined ? {} : { state: state.state }),
    peer: stripNoteMarkers(peer).text,
    descriptionText: description,
    notesText: notes,
    noteRefs,
    repairs,
    problems,
    prose: {
      direction: columns.direction,
      source: stripNoteMarkers(columns.source).text,
      destination: stripNoteMarkers(columns.destination).text,
      description,
      notes: [notes, ...noteRefs.map((note) => documentNotes.get(note) ?? '')].filter(Boolean).join(' '),
      state: stripNoteMarkers(stateCell).text,
      portInSourceColumn: columns.portInSourceColumn,
      sourceIsSelf: selfSource,
    },
    haystack: columns.cells.join(' '),
  };
}

function summarize(direction: Direction, protocol: string, peer: string): string {
  const what = protocol || 'Connection';
  if (!peer || /^n\/?a$/iu.test(peer)) return direction === 'intra-device' ? `${what} (internal)` : what;
  if (direction === 'egress') return `${what} to ${peer}`;
  if (direction === 'intra-device') return `${what}, internal, ${peer}`;
  return `${what} from ${peer}`;
}

// ---------------------------------------------------------------- the import

function notAPortMatrix(source: string, why: string): PortmatrixError {
  return new PortmatrixError('E_IMPORT', `${source}: not a port matrix: ${why}`, {
    hint: 'give the text export of a vendor port-matrix document, with its tab-separated tables',
  });
}

/** What the import knows about one table: its component, the product's own systems, its key for row ids. */
interface TableContext {
  component: string;
  self: string[];
  /** System name -> component, for destination cells that name several systems. */
  systems: { match: string; component: string }[];
  /** Prefix of row ids: the component when it has one table, else t<n>. */
  idPrefix: string;
}

/** Everything the row steps share during one import. */
interface ImportContext {
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

function createReport(read: DocumentRead, source: string): ImportReport {
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

/** One row of a port table -> matrix rows (one per component it belongs to), or an unreadable entry. */
function importPortRow(context: ImportContext, table: RawTable, tableContext: TableContext, raw: RawRow, key: string): MatrixRow | undefined {
  const { report, source } = context;
  const cells = readCells(table, raw, tableContext.self, context.read.notes);
  const where = { line: raw.line, table: table.title, row: key };
  const override = context.findOverride(table, key);
  if (override?.expectPorts !== undefined && override.expectPorts !== cells.portWritten) {
    throw new PortmatrixError(
      'E_IMPORT',
      `${source}:${raw.line}: override for ${table.title} row ${key} expects the port cell "${override.expectPorts}" but the document says "${cells.portWritten}"`,
      { hint: 'the document changed: review the override' },
    );
  }
  const patch: RowPatch = override?.set ?? {};
  const unresolved = cells.problems.filter((problem) => patch[PROBLEM_FIELD[problem.code]] === undefined);
  if (unresolved.length > 0) {
    report.unreadable.push({ ...where, problems: unresolved.map((problem) => problem.message) });
    return undefined;
  }
  const prose = cells.prose;
  const contradiction = findContradiction(prose, table.style === 'numbered' ? 'numbered' : 'source-destination');
  if (contradiction) decideContradiction(context, where, contradiction, override, cells);
  const direction = patch.direction ?? cells.direction;
  const conditionHit = findCondition({ ...prose, direction });
  const condition = patch.condition === null ? undefined : (patch.condition ?? conditionHit?.condition);
  if (conditionHit && patch.condition === undefined) report.conditional.push({ ...where, rule: conditionHit.rule, ...conditionHit.condition });
  else if (patch.condition) report.conditional.push({ ...where, rule: 'override', ...patch.condition });
  const components = componentsOfRow(context, tableContext, cells, patch, where);
  const row = buildRow(context, table, tableContext, raw, key, cells, override, { direction, components, condition });
  report.rowsRead += 1;
  if (cells.repairs.length > 0) report.repaired.push({ ...where, repairs: cells.repairs });
  if (override) report.overridden.push({ ...where, reason: override.reason });
  return row;
}

/** Which field of an override resolves which problem of a row. */
const PROBLEM_FIELD: Record<CellProblem['code'], 'ports' | 'transports' | 'optional' | 'state'> = {
  'no-port': 'ports',
  'bad-port': 'ports',
  'no-transport': 'transports',
  'no-optional': 'optional',
  'no-state': 'state',
};

/**
 * A contradictory row must be decided by an override whose quote is the document's own words
 * from that row; undecided, it is listed for a human and read as its columns say.
 */
function decideContradiction(
  context: ImportContext,
  where: ReportedRow,
  contradiction: Contradiction,
  override: RowOverride | undefined,
  cells: ReadRow,
): void {
  const entry = { ...where, rule: contradiction.rule, text: contradiction.text };
  if (!override) {
    context.report.contradictions.push({ ...entry, decision: 'undecided' });
    return;
  }
  if (override.quote === undefined || !normalizeSpace(cells.haystack).toLowerCase().includes(normalizeSpace(override.quote).toLowerCase())) {
    throw new PortmatrixError(
      'E_IMPORT',
      `${context.source}:${where.line}: the override for ${where.table} row ${where.row} decides a contradictory row (${contradiction.rule}) without quoting it`,
      { hint: 'add `quote:` with the words of that row the decision rests on' },
    );
  }
  context.report.contradictions.push({ ...entry, decision: override.reason, quote: override.quote });
}

function normalizeSpace(text: string): string {
  return text.replace(/\s+/gu, ' ').trim();
}

/**
 * The components a listener row belongs to: every system its destination names (AACC/ACCS/AAMS),
 * mapped through the table's and the document's systems, else the table's component. An override
 * that sets `component`, `components` or `direction` decides on its own.
 */
function componentsOfRow(context: ImportContext, tableContext: TableContext, cells: ReadRow, patch: RowPatch, where: ReportedRow): string[] {
  const decided = patch.components ?? (patch.component ? [patch.component] : undefined);
  if (cells.tableStyle !== 'source-destination' || cells.direction === 'egress' || patch.direction !== undefined) return decided ?? [tableContext.component];
  const names = splitSystems(cells.prose.destination);
  const found: string[] = [];
  for (const name of names) {
    const component =
      tableContext.systems.find((system) => matchesSystem(name, [system.match]))?.component ??
      (matchesSystem(name, tableContext.self) ? tableContext.component : undefined);
    if (component !== undefined && !found.includes(component)) found.push(component);
  }
  // The table's own component keeps the row's plain id.
  found.sort((a, b) => Number(b === tableContext.component) - Number(a === tableContext.component));
  const components = decided ?? (found.length > 0 ? found : [tableContext.component]);
  // "AACC/ACCS" names one system twice; several systems are names that belong to different components.
  if (found.length > 1) context.report.multiSystem.push({ ...where, systems: names, components });
  return components;
}

interface RowDecisions {
  direction: Direction;
  components: string[];
  condition: Condition | undefined;
}

/** The matrix row(s) of a read row: one per component, the first with the plain id. */
function buildRow(
  context: ImportContext,
  table: RawTable,
  tableContext: TableContext,
  raw: RawRow,
  key: string,
  cells: ReadRow,
  override: RowOverride | undefined,
  decisions: RowDecisions,
): MatrixRow {
  const patch: RowPatch = override?.set ?? {};
  const { direction, components, condition } = decisions;
  const ports = patch.ports ?? cells.portCell.ports!;
  const protocol = patch.protocol ?? cells.protocol;
  const peer = patch.peer ?? cells.peer;
  const documented = patch.state ?? cells.state!;
  // "Open if HA": the condition carries the "if", the state what holds when it is met.
  const state = condition && typeof documented === 'object' && documented.whenMet ? documented.whenMet : documented;
  const { notes, platforms } = rowNotes(context, cells, override, { direction, state, numbered: table.style === 'numbered' });
  if (components.length > 1) notes.push(`The destination names several systems ("${cells.prose.destination}"): a listener of ${components.join(', ')}.`);
  const ranges = parsePortSpec(ports);
  const wide = ranges.ok && countPorts(ranges.ranges) >= 100;
  const configurable = patch.configurable ?? cells.portCell.configurable;
  const rowId = uniqueRowId(context, table, tableContext, key, direction, cells, notes);
  const row: MatrixRow = {
    id: rowId,
    component: components[0]!,
    direction,
    transports: patch.transports ?? cells.transports,
    ports,
    ...(configurable ? { configurable } : {}),
    state,
    optional: patch.optional ?? cells.optional!,
    dynamic: patch.dynamic ?? (wide && MEDIA.test(`${protocol} ${cells.descriptionText} ${peer}`)),
    protocol,
    peer,
    description: patch.description ?? (context.descriptions === 'document' ? cells.descriptionText : summarize(direction, protocol, peer)),
    ...(platforms ? { platforms } : {}),
    ...(condition ? { condition } : {}),
    ref: { table: table.title, row: key, line: raw.line },
    notes,
  };
  context.rows.push(row);
  for (const component of components.slice(1)) {
    context.rows.push({ ...row, id: `${rowId}-${component}`, component, notes: [...notes] });
    context.rowIds.add(`${rowId}-${component}`);
  }
  return row;
}

/** Row id from the table and the row number; a number that appears twice gets a suffix (and a note). */
function uniqueRowId(
  context: ImportContext,
  table: RawTable,
  tableContext: TableContext,
  key: string,
  direction: Direction,
  cells: ReadRow,
  notes: string[],
): string {
  const idSection = table.style === 'numbered' ? `${direction === 'intra-device' ? 'intra' : direction === 'egress' ? 'out' : 'in'}-` : '';
  const number = table.style === 'numbered' ? key.split(' ').pop()! : key;
  let rowId = `${tableContext.idPrefix}-${idSection}${number}`;
  if (context.rowIds.has(rowId)) {
    let suffix = 2;
    while (context.rowIds.has(`${rowId}-${suffix}`)) suffix += 1;
    cells.repairs.push(`row number ${number} appears twice in the section; this one is ${rowId}-${suffix}`);
    notes.push(`Document: row number ${number} appears twice in the section.`);
    rowId = `${rowId}-${suffix}`;
  }
  context.rowIds.add(rowId);
  return rowId;
}

/** The notes of a row (repairs, the review, the document's notes) and the platforms they restrict it to. */
function rowNotes(
  context: ImportContext,
  cells: ReadRow,
  override: RowOverride | undefined,
  row: { direction: Direction; state: DocumentedState; numbered: boolean },
): { notes: string[]; platforms: string[] | undefined } {
  const { overrides, descriptions, read } = context;
  const patch: RowPatch = override?.set ?? {};
  const notes: string[] = [];
  let platforms: string[] | undefined = patch.platforms;
  for (const repair of cells.repairs) notes.push(`Document: ${repair}.`);
  for (const problem of cells.problems) notes.push(`Document: ${problem.message}.`);
  if (override) notes.push(`Reviewed: ${override.reason}`);
  if (cells.portCell.remark) notes.push(`The port cell adds "${cells.portCell.remark}".`);
  if (cells.portCell.configurableUnspecified) notes.push('The document marks the port configurable without saying where to.');
  for (const note of cells.noteRefs) {
    const marker = overrides?.noteMarkers[note];
    if (marker) {
      notes.push(`Note ${note}: ${marker.note}`);
      if (marker.platforms && !patch.platforms) platforms = marker.platforms;
    } else if (descriptions === 'document' && read.notes.has(note)) notes.push(`Note ${note}: ${read.notes.get(note)}`);
    else notes.push(`The document refers to its note ${note}.`);
  }
  for (const rule of overrides?.platformRules ?? []) {
    if (!patch.platforms && new RegExp(rule.match, 'iu').test(cells.haystack)) {
      platforms = rule.platforms;
      notes.push(rule.note);
    }
  }
  if (descriptions === 'document' && cells.notesText) notes.push(cells.notesText);
  if (row.direction === 'egress' && row.state !== 'n/a' && row.numbered) {
    notes.push(`The document gives the egress row the state "${typeof row.state === 'string' ? row.state : row.state.conditional}"; egress rows are not listeners.`);
  }
  return { notes, platforms };
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

function readHistory(
  table: RawTable,
  raw: RawRow,
  self: readonly string[],
  ref: HistoryEntry['ref'],
  descriptions: 'document' | 'summary',
): HistoryEntry {
  const notes: string[] = [...raw.repairs];
  if (table.style === 'change-list') {
    const [, changeCell = '', port = '', protocol = '', newPort = '', notesCell = ''] = raw.cells;
    const change = /^(added|changed|removed)$/iu.exec(changeCell.trim())?.[1]?.toLowerCase() as HistoryEntry['change'] | undefined;
    if (!change) notes.push(`change "${changeCell}" is not Added, Changed or Removed; read as changed`);
    return {
      change: change ?? 'changed',
      ports: port || newPort,
      ...(newPort && port ? { newPorts: newPort } : {}),
      protocol: cleanProtocolText(protocol),
      description: descriptions === 'document' ? notesCell : summarizeChange(change ?? 'changed', cleanProtocolText(protocol), port, newPort),
      ref,
      ...(notes.length > 0 ? { notes } : {}),
    };
  }
  let change = raw.change.toLowerCase() as HistoryEntry['change'] | '';
  if (!change) {
    change = 'changed';
    notes.push('the change table does not say whether the row was added, changed or removed; read as changed');
  }
  if (table.style === 'numbered') {
    const [, port = '', protocol = '', , , peer = '', description = ''] = raw.cells;
    const scope = raw.section ? ` (${raw.section.toLowerCase()})` : '';
    return {
      change,
      ports: stripNoteMarkers(port).text,
      protocol: cleanProtocolText(protocol),
      description: descriptions === 'document' ? description : `${cleanProtocolText(protocol) || 'Port'}${peer ? `, ${peer}` : ''}${scope}`,
      ref,
      ...(notes.length > 0 ? { notes } : {}),
    };
  }
  const [sourceSystem = '', , destinationSystem = '', destinationPort = '', protocol = '', , , description = ''] = raw.cells;
  const listener = matchesSystem(destinationSystem, self);
  return {
    change,
    ports: stripNoteMarkers(destinationPort).text,
    protocol: cleanProtocolText(protocol),
    description:
      descriptions === 'document'
        ? stripNoteMarkers(description).text
        : summarize(listener ? 'ingress' : 'egress', cleanProtocolText(protocol), listener ? sourceSystem : destinationSystem),
    ref,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

function summarizeChange(change: HistoryEntry['change'], protocol: string, port: string, newPort: string): string {
  if (change === 'changed' && port && newPort) return `${protocol} moved from ${port} to ${newPort}`;
  if (change === 'added') return `${protocol} added on ${newPort || port}`;
  return `${protocol} on ${port || newPort} ${change}${newPort && port ? ` (replacement: ${newPort})` : ''}`;
}
