/**
 * Parsers for single table cells of vendor port-matrix documents: ports, protocols, states, yes/no.
 * Pure. Each parser returns what it read plus `repairs` (what it had to fix, in words a reviewer
 * can check against the document) or an `error` when the cell cannot be read without a human.
 */
import type { Transport } from '../../model/port-state.js';
import type { DocumentedState, FixedState } from '../model.js';
import { formatPortSpec, MAX_PORT, MIN_PORT, type PortRange } from '../../model/port-range.js';

/** Superscript note markers (⁽⁷⁾), "(Note 1)", "See Note 6", "See Notes 2, 4", "see note 5". */
const SUPERSCRIPT_DIGITS = '⁰¹²³⁴⁵⁶⁷⁸⁹';
const SUPERSCRIPT_MARKER = /\s*⁽?([⁰¹²³⁴⁵⁶⁷⁸⁹]+)⁾?/gu;
const NOTE_IN_PARENS = /\s*\(\s*notes?\s+(\d+(?:\s*,\s*\d+)*)\s*\)/giu;
const SEE_NOTE = /\s*\bsee\s+notes?\s+(\d+(?:\s*(?:,|and)\s*\d+)*)\.?/giu;

export interface NoteMarkers {
  text: string;
  /** Note numbers referenced by the cell, in order, without duplicates. */
  notes: string[];
}

function superscriptToDigits(text: string): string {
  return [...text].map((character) => String(SUPERSCRIPT_DIGITS.indexOf(character))).join('');
}

/** Removes note markers from a cell and returns the note numbers they referenced. */
export function stripNoteMarkers(cell: string): NoteMarkers {
  const notes: string[] = [];
  const add = (list: string): void => {
    for (const note of list.split(/\s*(?:,|and)\s*/u)) if (note && !notes.includes(note)) notes.push(note);
  };
  let text = cell.replace(SUPERSCRIPT_MARKER, (_match, digits: string) => {
    add(superscriptToDigits(digits));
    return '';
  });
  text = text.replace(NOTE_IN_PARENS, (_match, list: string) => {
    add(list);
    return '';
  });
  text = text.replace(SEE_NOTE, (_match, list: string) => {
    add(list);
    return '';
  });
  return { text: text.replace(/\s+/gu, ' ').trim(), notes };
}

// ---------------------------------------------------------------- yes / no

export interface YesNoParse {
  value?: boolean;
  repairs: string[];
  error?: string;
}

export function parseYesNo(cell: string): YesNoParse {
  const { text } = stripNoteMarkers(cell);
  const match = /^(yes|no)(\*)?$/iu.exec(text);
  if (!match) {
    return { repairs: [], error: text === '' ? 'the "optionally enabled" cell is empty' : `"${text}" is not Yes or No` };
  }
  const repairs = match[2] ? [`"${text}" has a footnote asterisk with no footnote; read as ${match[1]}`] : [];
  return { value: match[1]!.toLowerCase() === 'yes', repairs };
}

// ---------------------------------------------------------------- states

export interface StateParse {
  state?: DocumentedState;
  repairs: string[];
  error?: string;
}

const FIXED_STATES: Record<string, FixedState> = {
  open: 'open',
  closed: 'closed',
  filtered: 'filtered',
  'n/a': 'n/a',
  na: 'n/a',
};

/** "Open", "Closed", "Filtered", "N/A"; anything else that starts with a state word ("Open if HA") is a condition kept verbatim. */
export function parseState(cell: string): StateParse {
  const { text } = stripNoteMarkers(cell);
  const fixed = FIXED_STATES[text.toLowerCase()];
  if (fixed) return { state: fixed, repairs: [] };
  const lead = /^(open|closed|filtered)\b/iu.exec(text);
  if (lead) {
    return { state: { conditional: text, whenMet: FIXED_STATES[lead[1]!.toLowerCase()] }, repairs: [] };
  }
  return { repairs: [], error: text === '' ? 'the default port state cell is empty' : `"${text}" is not a port state` };
}

// ---------------------------------------------------------------- protocols

export interface TransportParse {
  transports: Transport[];
  repairs: string[];
  error?: string;
}

/** Application protocols whose transport the design fixes (design.md, "From a matrix row to an expectation"). */
const TCP_PROTOCOLS = new Set([
  'TLS', 'SSL', 'HTTP', 'HTTPS', 'SSH', 'SFTP', 'FTP', 'SMTP', 'LDAP', 'LDAPS', 'IMAP', 'IMAP4', 'POP3', 'TELNET',
  'SOAP', 'REST', 'JMX', 'XMPP', 'BOSH', 'WSS', 'WEBSOCKETS', 'JDBC', 'MSSQL', 'TAPI', 'SIPS', 'TOMCAT', 'LOG4J',
  'UUCP', 'AJP', 'RMI',
]);
const UDP_PROTOCOLS = new Set(['SNMP', 'NTP', 'SNTP', 'DHCP', 'BOOTP', 'TFTP', 'RTP', 'RTCP', 'SRTP', 'SRTCP', 'RIP', 'DNS', 'IKE', 'L2TP', 'BFCP', 'TIME']);
/** Protocols that run over both (H.323 RAS is UDP, call signalling TCP). */
const BOTH_PROTOCOLS = new Set(['H323', 'H.323']);
/** Known misspellings of the layer-4 names, with the word they stand for. */
const LAYER4_TYPOS: Record<string, Transport> = { UPD: 'udp', TPC: 'tcp' };

function sortTransports(set: Set<Transport>): Transport[] {
  return (['tcp', 'udp'] as const).filter((transport) => set.has(transport));
}

/**
 * Protocol text -> transports. An explicit TCP or UDP wins ("TCP/ SNMP Trap" is TCP); TLS and SSL
 * add TCP; otherwise the application protocol decides ("HTTPS" is TCP, "NTP" is UDP).
 */
export function parseTransports(cell: string): TransportParse {
  const { text } = stripNoteMarkers(cell);
  const repairs: string[] = [];
  const tokens = text.toUpperCase().split(/[^A-Z0-9.]+/u).map((token) => token.replace(/^\.+|\.+$/gu, '')).filter(Boolean);
  const explicit = new Set<Transport>();
  const implied = new Set<Transport>();
  for (const token of tokens) {
    if (token === 'TCP') explicit.add('tcp');
    else if (token === 'UDP') explicit.add('udp');
    else if (LAYER4_TYPOS[token]) {
      explicit.add(LAYER4_TYPOS[token]);
      repairs.push(`protocol "${text}" has the typo ${token}; read as ${LAYER4_TYPOS[token].toUpperCase()}`);
    } else if (token === 'TLS' || token === 'SSL') implied.add('tcp');
    else if (TCP_PROTOCOLS.has(token)) implied.add('tcp');
    else if (UDP_PROTOCOLS.has(token)) implied.add('udp');
    else if (BOTH_PROTOCOLS.has(token)) {
      implied.add('tcp');
      implied.add('udp');
    }
  }
  if (explicit.size > 0) {
    if (tokens.includes('TLS') || tokens.includes('SSL')) explicit.add('tcp');
    return { transports: sortTransports(explicit), repairs };
  }
  if (implied.size > 0) return { transports: sortTransports(implied), repairs };
  return {
    transports: [],
    repairs,
    error: text === '' ? 'the protocol cell is empty: TCP or UDP cannot be told' : `protocol "${text}" does not say TCP or UDP`,
  };
}

/** The protocol text as it should be shown: note markers and stray punctuation removed. */
export function cleanProtocolText(cell: string): string {
  return stripNoteMarkers(cell).text.replace(/^\.+/u, '').replace(/\s*\/\s*/gu, '/').trim();
}

// ---------------------------------------------------------------- ports

export interface PortCellParse {
  /** No port at all: "Ephemeral", empty, "None", "N/A". */
  kind: 'ports' | 'ephemeral' | 'empty' | 'none';
  /** Canonical spec for the matrix, e.g. "5060-5061" or "6020,6030". */
  ports?: string;
  ranges?: PortRange[];
  /** Where the port may be moved, when the cell says. */
  configurable?: string;
  /** The cell says the port is configurable ("(C)", "(Configurable)") without saying where to. */
  configurableUnspecified?: boolean;
  /** Words the cell carries besides ports ("fixed, jabber protocol"). */
  remark?: string;
  notes: string[];
  repairs: string[];
  error?: string;
}

const DASH = /\s*(?:-|–|—|\bto\b)\s*/u;

interface ListParse {
  ranges: PortRange[];
  repairs: string[];
  error?: string;
}

/** Out-of-range values are an error, never clamped: a human must decide what the document meant. */
function checkPort(value: number, written: string): string | undefined {
  if (value < MIN_PORT || value > MAX_PORT) return `port ${value} in "${written}" is outside ${MIN_PORT}-${MAX_PORT}`;
  return undefined;
}

function parseItem(item: string, written: string): { range?: PortRange; error?: string } {
  const bounds = item.split(DASH);
  if (bounds.length > 2 || bounds.some((bound) => !/^\d+$/u.test(bound))) return { error: `"${item}" is not a port or a range` };
  const start = Number(bounds[0]);
  const end = Number(bounds[bounds.length - 1]);
  const error = checkPort(start, written) ?? checkPort(end, written);
  if (error) return { error };
  if (end < start) return { error: `range "${item}" in "${written}" is reversed` };
  return { range: { start, end } };
}

/**
 * A list of ports and ranges in any written form: "5488/5489", "6020,6030, 6040", "33012 33029",
 * "450 1050-1065 4721", "3999 - 4007", "21000 to 21031", "7030,, 7040", "715 0" (a number split by a wrap).
 */
export function parsePortList(text: string): ListParse {
  const repairs: string[] = [];
  const written = text;
  // Ranges written with spaces around the dash are one item, not three.
  let normalized = text.replace(/(\d)\s*(?:-|–|—|\bto\b)\s*(\d)/gu, '$1-$2');
  let items: string[];
  if (/[,/]/u.test(normalized)) {
    if (/,\s*,/u.test(normalized)) {
      repairs.push(`"${written}" has an empty list item (",,"); ignored`);
      normalized = normalized.replace(/,(\s*,)+/gu, ',');
    }
    items = normalized.split(/\s*[,/]\s*/u).filter((item) => item !== '');
    items = items.map((item) => {
      if (/^\d+(?:\s+\d+)+$/u.test(item)) {
        const joined = item.replace(/\s+/gu, '');
        repairs.push(`"${item}" in a comma list read as ${joined} (a number split by a line wrap)`);
        return joined;
      }
      return item;
    });
  } else {
    items = normalized.split(/\s+/u).filter((item) => item !== '');
  }
  if (items.length === 0) return { ranges: [], repairs, error: `"${written}" has no port` };
  const ranges: PortRange[] = [];
  for (const item of items) {
    const parsed = parseItem(item, written);
    if (parsed.error) return { ranges: [], repairs, error: parsed.error };
    ranges.push(parsed.range!);
  }
  return { ranges, repairs };
}

const EPHEMERAL = /^eph[a-z]*ral\b/iu;

/** One port cell of either table style, with its configurable range, notes and remarks. */
export function parsePortCell(cell: string): PortCellParse {
  const { text: withoutNotes, notes } = stripNoteMarkers(cell);
  const repairs: string[] = [];
  let text = withoutNotes.replace(/\*+/gu, '').trim();
  if (text === '') return { kind: 'empty', notes, repairs };
  if (/^(none|n\/?a|-+)$/iu.test(text)) return { kind: 'none', notes, repairs };
  if (EPHEMERAL.test(text)) {
    if (!/^ephemeral\b/iu.test(text)) repairs.push(`"${text.split(/\s/u)[0]}" read as Ephemeral (typo)`);
    const rest = text.replace(EPHEMERAL, '').replace(/^[\s,]+/u, '');
    // "22, Ephemeral" is handled below; "Ephemeral (1024 – 65535)" only names the OS range.
    return { kind: 'ephemeral', notes, repairs, ...(rest ? { remark: rest } : {}) };
  }
  if (/,\s*ephemeral$/iu.test(text)) {
    repairs.push(`"${text}" names a fixed port or an ephemeral one; the fixed port is kept`);
    text = text.replace(/,\s*ephemeral$/iu, '');
  }

  // "Default Range is (5004 – 5203) Available Range is (1024-65535)"
  const defaultRange = /^default range is\s*\(([^)]*)\)\s*(?:available range is\s*(?:\(([^)]*)\))?)?\s*$/iu.exec(text);
  let main = text;
  let configurableText: string | undefined;
  let configurableUnspecified = false;
  let remark: string | undefined;
  if (defaultRange) {
    main = defaultRange[1]!;
    if (defaultRange[2]) configurableText = defaultRange[2];
    else configurableUnspecified = true;
  } else {
    // A trailing "(C)", "(Configurable ...)", "(1024-65535)" or "(fixed, ...)".
    const paren = /^(.*?)\s*\(([^()]*)\)\s*$/u.exec(text);
    if (paren && paren[1]!.trim() !== '') {
      main = paren[1]!;
      const inner = paren[2]!.trim();
      if (/^c$/iu.test(inner)) configurableUnspecified = true;
      else if (/^configurable\b/iu.test(inner)) {
        const rest = inner.replace(/^configurable\s*/iu, '');
        const minStart = /^min start (\d+),?\s*min end (\d+)$/iu.exec(rest);
        if (rest === '') configurableUnspecified = true;
        else if (minStart) {
          configurableText = `${minStart[1]}-${MAX_PORT}`;
          repairs.push(`"(Configurable ${rest})" read as configurable within ${minStart[1]}-${MAX_PORT}`);
        } else configurableText = rest;
      } else if (/^[\d\s,–—-]+$/u.test(inner)) configurableText = inner;
      else remark = inner;
    } else if (paren && paren[1]!.trim() === '') {
      // "(6225 - 106275)": the whole cell in parentheses.
      main = paren[2]!;
      repairs.push(`"${text}" is written in parentheses; read as ${main.trim()}`);
    }
  }

  const list = parsePortList(main.trim());
  repairs.push(...list.repairs);
  if (list.error) return { kind: 'ports', notes, repairs, error: list.error };
  const result: PortCellParse = { kind: 'ports', ports: formatPortSpec(list.ranges), ranges: list.ranges, notes, repairs };
  if (configurableUnspecified) result.configurableUnspecified = true;
  if (remark) result.remark = remark;
  if (configurableText !== undefined) {
    const configurable = parsePortList(configurableText.trim());
    repairs.push(...configurable.repairs);
    if (configurable.error) return { ...result, error: `configurable range: ${configurable.error}` };
    result.configurable = formatPortSpec(configurable.ranges);
  }
  return result;
}
