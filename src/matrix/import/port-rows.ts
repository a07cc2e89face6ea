/**
 * One row of a port table -> matrix rows: apply the override, decide contradictions, conditions
 * and components, then build the row with its id and notes. Every decision lands in the report.
 */
import { PortmatrixError } from '../../errors.js';
import { countPorts, parsePortSpec } from '../../model/port-range.js';
import type { Condition, DocumentedState, Direction, MatrixRow } from '../model.js';
import type { ImportContext, ReportedRow, TableContext } from './import-model.js';
import type { RowOverride, RowPatch } from './overrides.js';
import { findCondition, findContradiction, splitSystems, type Contradiction } from './prose-rules.js';
import { matchesSystem, MEDIA, readCells, summarize, type CellProblem, type ReadRow } from './row-cells.js';
import type { RawRow, RawTable } from './tables.js';

/** One row of a port table -> matrix rows (one per component it belongs to), or an unreadable entry. */
export function importPortRow(context: ImportContext, table: RawTable, tableContext: TableContext, raw: RawRow, key: string): MatrixRow | undefined {
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
