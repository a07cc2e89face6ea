/**
 * One row of a port table read by meaning: which cell is the port, the peer, the state, whatever
 * the table style, parsed into a ReadRow with its repairs and the problems a human must resolve.
 */
import type { Transport } from '../../model/port-state.js';
import type { DocumentedState, Direction } from '../model.js';
import {
  cleanProtocolText,
  parsePortCell,
  parseState,
  parseTransports,
  parseYesNo,
  stripNoteMarkers,
  type PortCellParse,
} from './cells.js';
import type { RowProse } from './prose-rules.js';
import type { RawRow, RawTable } from './tables.js';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
}

export function matchesSystem(system: string, self: readonly string[]): boolean {
  return self.some((name) => new RegExp(`(^|[^a-z0-9])${escapeRegExp(name)}($|[^a-z0-9])`, 'iu').test(system));
}

export const MEDIA = /\b(?:s?rtcp?|s?rtp|srtc|media|voice|audio|video)\b/iu;
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

export function rowKey(table: RawTable, row: RawRow): string {
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
export interface CellProblem {
  code: 'no-port' | 'bad-port' | 'no-transport' | 'no-optional' | 'no-state';
  message: string;
}

export interface ReadRow {
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

export function readCells(table: RawTable, row: RawRow, self: readonly string[], documentNotes: ReadonlyMap<string, string>): ReadRow {
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

export function summarize(direction: Direction, protocol: string, peer: string): string {
  const what = protocol || 'Connection';
  if (!peer || /^n\/?a$/iu.test(peer)) return direction === 'intra-device' ? `${what} (internal)` : what;
  if (direction === 'egress') return `${what} to ${peer}`;
  if (direction === 'intra-device') return `${what}, internal, ${peer}`;
  return `${what} from ${peer}`;
}
