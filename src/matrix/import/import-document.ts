/**
 * Document -> matrix draft + import report. Pure: text in, data out. Every repair is recorded on the
 * row (as a note) and in the report; rows that cannot be read without a human are reported with
 * their line numbers and left out, unless an override supplies what the document does not.
 */
import { PortmatrixError } from '../../errors.js';
import type { Transport } from '../../scan/model.js';
import {
  matrixSchema,
  type DocumentedState,
  type Direction,
  type HistoryEntry,
  type Matrix,
  type MatrixRow,
} from '../model.js';
import { countPorts, parsePortSpec } from '../port-spec.js';
import {
  cleanProtocolText,
  parsePortCell,
  parseState,
  parseTransports,
  parseYesNo,
  stripNoteMarkers,
  type PortCellParse,
} from './cells.js';
import type { MatrixOverrides, RowPatch } from './overrides.js';
import { readDocument, type RawRow, type RawTable } from './tables.js';
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

interface ReadRow {
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
  problems: string[];
  /** Text searched by platform rules. */
  haystack: string;
}

function readCells(table: RawTable, row: RawRow, self: readonly string[]): ReadRow {
  const repairs: string[] = [...row.repairs];
  const problems: string[] = [];
  const noteRefs: string[] = [];
  let cells: string[];
  let portWritten: string;
  let portCell: PortCellParse;
  let direction: Direction;
  let peer: string;
  let protocolCell: string;
  let optionalCell: string;
  let stateCell: string;
  let descriptionText: string;
  let notesText = '';

  if (table.style === 'numbered') {
    const aligned = alignCells(row.cells, 3, 2);
    if (aligned.repair) repairs.push(aligned.repair);
    cells = aligned.cells;
    portWritten = cells[1] ?? '';
    portCell = parsePortCell(portWritten);
    protocolCell = cells[2] ?? '';
    optionalCell = cells[3] ?? '';
    stateCell = cells[4] ?? '';
    peer = cells[5] ?? '';
    descriptionText = cells[6] ?? '';
    notesText = cells[7] ?? '';
    repairs.push(...portCell.repairs);
    direction = sectionDirection(row.section) ?? 'ingress';
    if (!sectionDirection(row.section)) repairs.push('no INGRESS / EGRESS / INTRA-DEVICE heading above the row; read as ingress');
  } else {
    const aligned = alignCells(row.cells, 5, 4);
    if (aligned.repair) repairs.push(aligned.repair);
    cells = aligned.cells;
    const [sourceSystem = '', sourcePort = '', destinationSystem = '', destinationPort = ''] = cells;
    protocolCell = cells[4] ?? '';
    optionalCell = cells[5] ?? '';
    stateCell = cells[6] ?? '';
    descriptionText = cells[7] ?? '';
    const destinationSelf = matchesSystem(destinationSystem, self);
    // The documents' own definition: intra-device ports need no firewall rule; they say so per row.
    if (destinationSelf && INTERNAL_ONLY.test(descriptionText)) direction = 'intra-device';
    else if (destinationSelf) direction = 'ingress';
    else direction = 'egress';
    peer = direction === 'egress' ? destinationSystem : sourceSystem;
    const destination = parsePortCell(destinationPort);
    const source = parsePortCell(sourcePort);
    const useSource = destination.kind !== 'ports' && !destination.error && (source.kind === 'ports' || source.error !== undefined);
    portCell = useSource ? source : destination;
    portWritten = useSource ? sourcePort : destinationPort;
    if (useSource) {
      const destinationWord = destination.kind === 'empty' ? 'empty' : `"${destinationPort}"`;
      repairs.push(`the port is written in the source column ("${sourcePort}") and the destination port is ${destinationWord}; read as the port of the row`);
    }
    repairs.push(...portCell.repairs);
    const other = useSource ? destination : source;
    repairs.push(...other.repairs.map((text) => `${useSource ? 'destination' : 'source'} port: ${text}`));
  }
  noteRefs.push(...portCell.notes);
  if (portCell.error) problems.push(portCell.error);
  else if (portCell.kind !== 'ports') problems.push(portWritten === '' ? 'no port in the row' : `no port number in "${portWritten}"`);
  const transports = parseTransports(protocolCell);
  repairs.push(...transports.repairs);
  if (transports.error) problems.push(transports.error);
  const optional = parseYesNo(optionalCell);
  repairs.push(...optional.repairs);
  if (optional.error) problems.push(optional.error);
  const state = parseState(stateCell);
  repairs.push(...state.repairs);
  if (state.error) problems.push(state.error);
  for (const cell of [protocolCell, optionalCell, stateCell, descriptionText, notesText, peer]) {
    for (const note of stripNoteMarkers(cell).notes) if (!noteRefs.includes(note)) noteRefs.push(note);
  }
  return {
    direction,
    portCell,
    portWritten,
    transports: transports.transports,
    protocol: cleanProtocolText(protocolCell),
    ...(optional.value === undefined ? {} : { optional: optional.value }),
    ...(state.state === undefined ? {} : { state: state.state }),
    peer: stripNoteMarkers(peer).text,
    descriptionText: stripNoteMarkers(descriptionText).text,
    notesText: stripNoteMarkers(notesText).text,
    noteRefs,
    repairs,
    problems,
    haystack: cells.join(' '),
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

export function importMatrixDocument(text: string, options: ImportOptions = {}): ImportResult {
  const source = options.sourceName ?? 'document';
  if (text.trim() === '') throw notAPortMatrix(source, 'the file is empty');
  if (looksBinary(text)) throw notAPortMatrix(source, 'the file is binary, not text');
  const read = readDocument(text);
  const portTables = read.tables.filter((table) => !table.changes);
  if (portTables.every((table) => table.rows.length === 0)) {
    throw notAPortMatrix(source, 'no port table found (no "No. | Default Destination Port ..." or "Source | Destination ..." header)');
  }
  const overrides = options.overrides;
  const descriptions = overrides?.descriptions ?? "document";
  const product = options.product ?? overrides?.product ?? read.meta.product ?? 'Unknown product';
  const version = options.version ?? overrides?.version ?? read.meta.version ?? 'unknown';
  const matrixId = options.id ?? overrides?.id ?? slug(`${product}-${version}`);
  const globalSelf = options.self ?? overrides?.self ?? [];

  // Components: from the overrides, or one per port table.
  const tableComponent = new Map<RawTable, string>();
  const tableSelf = new Map<RawTable, string[]>();
  const tableSystems = new Map<RawTable, { match: string; component: string }[]>();
  const components: Matrix['components'] = overrides ? overrides.components.map((component) => ({ ...component })) : [];
  const platforms: Matrix['platforms'] = overrides ? overrides.platforms.map((platform) => ({ ...platform })) : [{ id: 'any', name: 'Any platform' }];
  for (const table of read.tables) {
    const rule = overrides?.tables.find((candidate) => table.title.toLowerCase().includes(candidate.match.toLowerCase()));
    tableSelf.set(table, options.self ?? rule?.self ?? globalSelf);
    if (rule?.systems) tableSystems.set(table, rule.systems);
    if (table.changes) continue;
    if (rule) {
      tableComponent.set(table, rule.component);
      continue;
    }
    const fallback = components.find((component) => component.default) ?? components[0];
    if (overrides && fallback) {
      tableComponent.set(table, fallback.id);
      continue;
    }
    let componentId = slug(table.title.replace(/^table\s+\d+\.?\s*(ports?\s+for\s+)?/iu, '').replace(/^[\d.]+\s+/u, ''));
    while (components.some((component) => component.id === componentId && component.name !== table.title)) componentId += '-2';
    if (!components.some((component) => component.id === componentId)) {
      components.push({ id: componentId, name: table.title, platforms: ['any'], default: components.length === 0 });
    }
    tableComponent.set(table, componentId);
  }
  const componentTables = new Map<string, number>();
  for (const componentId of tableComponent.values()) componentTables.set(componentId, (componentTables.get(componentId) ?? 0) + 1);

  const report: ImportReport = {
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
    skipped: [...read.skipped],
    furnitureLines: read.furnitureLines,
    repeatedHeaders: read.tables.reduce((sum, table) => sum + table.repeatedHeaders.length, 0),
  };

  const usedOverrides = new Set<number>();
  const findOverride = (table: RawTable, key: string) => {
    const index = overrides?.rows.findIndex(
      (candidate) => table.title.toLowerCase().includes(candidate.table.toLowerCase()) && candidate.row.toLowerCase() === key.toLowerCase(),
    );
    if (index === undefined || index < 0) return undefined;
    usedOverrides.add(index);
    return overrides!.rows[index]!;
  };

  const rows: MatrixRow[] = [];
  const rowIds = new Set<string>();
  const history: HistoryEntry[] = [];

  read.tables.forEach((table, tableIndex) => {
    const self = tableSelf.get(table) ?? [];
    const componentId = tableComponent.get(table) ?? '';
    const tableKey = (componentTables.get(componentId) ?? 0) === 1 ? componentId : `t${tableIndex + 1}`;
    const seen = new Map<string, MatrixRow | HistoryEntry>();
    for (const raw of table.rows) {
      const key = rowKey(table, raw);
      const ref = { table: table.title, row: key, line: raw.line };
      const portProbe = parsePortCell(table.style === 'numbered' ? raw.cells[1] ?? '' : table.style === 'change-list' ? raw.cells[2] ?? '' : raw.cells[3] ?? '');
      if (portProbe.kind === 'none' && raw.cells.slice(2).every((cell) => cell === '')) {
        report.skipped.push({ line: raw.line, table: table.title, reason: `row ${key} says "None": the section lists no ports` });
        continue;
      }
      const signature = raw.cells.slice(table.style === 'numbered' ? 1 : 0).join('\t').toLowerCase();
      const duplicateOf = seen.get(signature);
      if (duplicateOf) {
        const first = duplicateOf.ref;
        const text = `listed twice in the document (lines ${first.line} and ${raw.line}); read once`;
        (duplicateOf.notes ??= []).push(text);
        report.repaired.push({ line: raw.line, table: table.title, row: key, repairs: [`duplicate of row ${first.row} (line ${first.line}); read once`] });
        continue;
      }

      if (table.changes) {
        const entry = readHistory(table, raw, self, ref, descriptions);
        history.push(entry);
        seen.set(signature, entry);
        report.historyEntries += 1;
        continue;
      }

      const cells = readCells(table, raw, self);
      const destinationComponent =
        table.style === 'source-destination' && cells.direction !== 'egress'
          ? tableSystems.get(table)?.find((system) => matchesSystem(raw.cells[2] ?? '', [system.match]))?.component
          : undefined;
      const override = findOverride(table, key);
      if (override?.expectPorts !== undefined && override.expectPorts !== cells.portWritten) {
        throw new PortmatrixError(
          'E_IMPORT',
          `${source}:${raw.line}: override for ${table.title} row ${key} expects the port cell "${override.expectPorts}" but the document says "${cells.portWritten}"`,
          { hint: 'the document changed: review the override' },
        );
      }
      const patch: RowPatch = override?.set ?? {};
      const unresolved = cells.problems.filter((problem) => !problemResolved(problem, patch));
      if (unresolved.length > 0) {
        report.unreadable.push({ line: raw.line, table: table.title, row: key, problems: unresolved });
        continue;
      }

      const notes: string[] = [];
      const direction = patch.direction ?? cells.direction;
      const ports = patch.ports ?? cells.portCell.ports!;
      const transports = patch.transports ?? cells.transports;
      const protocol = patch.protocol ?? cells.protocol;
      const peer = patch.peer ?? cells.peer;
      let platformsOfRow: string[] | undefined = patch.platforms;
      for (const repair of cells.repairs) notes.push(`Document: ${repair}.`);
      for (const problem of cells.problems) notes.push(`Document: ${problem}.`);
      if (override) {
        notes.push(`Reviewed: ${override.reason}`);
        report.overridden.push({ line: raw.line, table: table.title, row: key, reason: override.reason });
      }
      if (cells.portCell.remark) notes.push(`The port cell adds "${cells.portCell.remark}".`);
      if (cells.portCell.configurableUnspecified) notes.push('The document marks the port configurable without saying where to.');
      for (const note of cells.noteRefs) {
        const marker = overrides?.noteMarkers[note];
        if (marker) {
          notes.push(`Note ${note}: ${marker.note}`);
          if (marker.platforms && !patch.platforms) platformsOfRow = marker.platforms;
        } else if (descriptions === 'document' && read.notes.has(note)) notes.push(`Note ${note}: ${read.notes.get(note)}`);
        else notes.push(`The document refers to its note ${note}.`);
      }
      for (const rule of overrides?.platformRules ?? []) {
        if (!patch.platforms && new RegExp(rule.match, 'iu').test(cells.haystack)) {
          platformsOfRow = rule.platforms;
          notes.push(rule.note);
        }
      }
      if (descriptions === 'document' && cells.notesText) notes.push(cells.notesText);
      const state = patch.state ?? cells.state!;
      if (direction === 'egress' && state !== 'n/a' && table.style === 'numbered') {
        notes.push(`The document gives the egress row the state "${typeof state === 'string' ? state : state.conditional}"; egress rows are not listeners.`);
      }
      const ranges = parsePortSpec(ports);
      const wide = ranges.ok && countPorts(ranges.ranges) >= 100;
      const dynamic = patch.dynamic ?? (wide && MEDIA.test(`${protocol} ${cells.descriptionText} ${peer}`));
      const configurable = patch.configurable ?? cells.portCell.configurable;
      const description =
        patch.description ?? (descriptions === 'document' ? cells.descriptionText : summarize(direction, protocol, peer));
      const idSection = table.style === 'numbered' ? `${direction === 'intra-device' ? 'intra' : direction === 'egress' ? 'out' : 'in'}-` : '';
      const number = table.style === 'numbered' ? key.split(' ').pop()! : key;
      let rowId = `${tableKey}-${idSection}${number}`;
      if (rowIds.has(rowId)) {
        let suffix = 2;
        while (rowIds.has(`${rowId}-${suffix}`)) suffix += 1;
        cells.repairs.push(`row number ${number} appears twice in the section; this one is ${rowId}-${suffix}`);
        notes.push(`Document: row number ${number} appears twice in the section.`);
        rowId = `${rowId}-${suffix}`;
      }
      rowIds.add(rowId);
      const matrixRow: MatrixRow = {
        id: rowId,
        component: patch.component ?? destinationComponent ?? componentId,
        direction,
        transports,
        ports,
        ...(configurable ? { configurable } : {}),
        state,
        optional: patch.optional ?? cells.optional!,
        dynamic,
        protocol,
        peer,
        description,
        ...(platformsOfRow ? { platforms: platformsOfRow } : {}),
        ref,
        notes,
      };
      rows.push(matrixRow);
      seen.set(signature, matrixRow);
      report.rowsRead += 1;
      if (cells.repairs.length > 0) report.repaired.push({ line: raw.line, table: table.title, row: key, repairs: cells.repairs });
    }
  });

  overrides?.rows.forEach((candidate, index) => {
    if (!usedOverrides.has(index)) {
      throw new PortmatrixError('E_IMPORT', `${source}: override for "${candidate.table}" row ${candidate.row} matches no row`, {
        hint: 'check the table title and the row key in the overrides file',
      });
    }
  });

  const matrixInput = {
    schemaVersion: 1 as const,
    id: matrixId,
    product,
    version,
    document: {
      title: overrides?.document?.title ?? read.meta.title ?? `${product} ${version} port matrix`,
      ...((overrides?.document?.issue ?? read.meta.issue) ? { issue: overrides?.document?.issue ?? read.meta.issue } : {}),
      ...((overrides?.document?.date ?? read.meta.date) ? { date: overrides?.document?.date ?? read.meta.date } : {}),
      ...(options.sourceName ? { source: options.sourceName } : {}),
    },
    platforms,
    components,
    rows,
    history,
  };
  const parsed = matrixSchema.safeParse(matrixInput);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PortmatrixError('E_IMPORT', `${source}: the imported matrix is invalid at ${issue.path.join('.')}: ${issue.message}`, {
      hint: 'fix the overrides or pass --product/--version',
    });
  }
  return { matrix: parsed.data, report };
}

/** A problem is resolved when the override sets the field it is about. */
function problemResolved(problem: string, patch: RowPatch): boolean {
  if (/port state/iu.test(problem)) return patch.state !== undefined;
  if (/optionally enabled|Yes or No/iu.test(problem)) return patch.optional !== undefined;
  if (/protocol|TCP or UDP/iu.test(problem)) return patch.transports !== undefined;
  return patch.ports !== undefined;
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
