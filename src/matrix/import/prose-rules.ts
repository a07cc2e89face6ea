/**
 * The prose of a port-matrix row, read as data: conditions the State column does not show
 * ("Only used for HA switchover", "Open only for localhost"), destination cells that name several
 * systems ("AACC/ACCS/AAMS"), descriptions that contradict the row's direction, and document-level
 * notes that change what a scan should expect. Pure. Every hit names the rule that fired, so the
 * import report can say why a row reads the way it does.
 */
import type { Condition, ConditionKind, Direction, DocumentNote } from '../model.js';

/** The texts of one row the rules look at, notes markers removed. */
export interface RowProse {
  direction: Direction;
  /** Numbered tables: the external device; source/destination tables: the source system. */
  source: string;
  /** Source/destination tables only. */
  destination: string;
  description: string;
  /** The Notes column and the text of the document notes the row cites. */
  notes: string;
  /** The State cell as written ("Open if HA"). */
  state: string;
  /** The port was written in the source column only (source/destination tables). */
  portInSourceColumn: boolean;
  /** The source system is one of the product's own. */
  sourceIsSelf: boolean;
}

export interface ConditionRule {
  id: string;
  kind: ConditionKind;
  field: 'description' | 'destination' | 'source' | 'notes' | 'state';
  pattern: RegExp;
}

/**
 * In order: the first rule that fires decides (legacy before role: a co-resident port the document
 * says was moved is a legacy port). Only listener rows documented open are read: a condition says
 * when a listener is expected, and dark or egress rows expect none.
 */
export const CONDITION_RULES: readonly ConditionRule[] = [
  { id: 'state-if-ha', kind: 'ha', field: 'state', pattern: /\bif HA\b/iu },
  { id: 'localhost-only', kind: 'localhost-only', field: 'description', pattern: /\bopen only for localhost\b|\bonly localhost\b/iu },
  { id: 'legacy-recommend-close', kind: 'legacy', field: 'description', pattern: /\brecommendation to close port\b/iu },
  { id: 'legacy-not-used', kind: 'legacy', field: 'description', pattern: /^not used$/iu },
  { id: 'ha-destination', kind: 'ha', field: 'destination', pattern: /\bHA\b[^/]*/u },
  {
    id: 'ha-only',
    kind: 'ha',
    field: 'description',
    pattern:
      /\b(?:only used for HA switchover|clustering on HA installations|in case of [^.]*\bHA is configured|used by the High Availability feature|High Availability option|copying data between active and standby servers)\b/iu,
  },
  { id: 'role-central', kind: 'role', field: 'destination', pattern: /\bcentral\b.*/iu },
  { id: 'role-cluster-peer', kind: 'role', field: 'source', pattern: /\bon other (?:AMS|AAMS)\b/iu },
  { id: 'role-cluster', kind: 'role', field: 'description', pattern: /\bbetween AAMS servers\b/iu },
  { id: 'feature-not-standard', kind: 'feature', field: 'notes', pattern: /\bnot part of (?:the )?standard\b/iu },
  { id: 'client-side', kind: 'client-side', field: 'description', pattern: /\bon the client PCs?\b/iu },
  { id: 'multicast', kind: 'multicast', field: 'description', pattern: /\bmulticast\b/iu },
];

export interface ConditionHit {
  rule: string;
  condition: Condition;
}

/** A sentence ends at a full stop followed by a space or the end ("7.0.3" does not end one). */
const SENTENCE_END = /[.!?](?=\s|$)/gu;

/** The sentence of `text` around a match: the document's own words, short. */
function sentenceAround(text: string, index: number, length: number): string {
  let start = 0;
  let stop = text.length;
  for (const end of text.matchAll(SENTENCE_END)) {
    if (end.index < index) start = end.index + 1;
    else if (end.index >= index + length - 1) {
      stop = end.index + 1;
      break;
    }
  }
  return text.slice(start, stop).trim();
}

export function findCondition(prose: RowProse): ConditionHit | undefined {
  if (prose.direction === 'egress' || !/^open\b/iu.test(prose.state)) return undefined;
  for (const rule of CONDITION_RULES) {
    const text = prose[rule.field];
    const match = rule.pattern.exec(text);
    if (!match) continue;
    const words = rule.field === 'description' || rule.field === 'notes' ? sentenceAround(text, match.index, match[0].length) : text;
    return { rule: rule.id, condition: { kind: rule.kind, text: words } };
  }
  return undefined;
}

// ---------------------------------------------------------------- several systems in one cell

/** "AACC/ACCS/AAMS", "IIS (CCMA) + IIS (CCMA Web Services)", "AACC/ACCS Desktop and AAMS ..." -> the names. */
export function splitSystems(cell: string): string[] {
  return cell
    .split(/\s*(?:\/|\+|\band\b)\s*/u)
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

// ---------------------------------------------------------------- contradictions

export interface Contradiction {
  rule: string;
  /** What contradicts what, in words a reviewer can check against the document. */
  text: string;
}

/**
 * A row whose words contradict its columns: the overrides must decide it (and quote the
 * document). Each rule is one shape the documents have been seen to take.
 */
export function findContradiction(prose: RowProse, tableStyle: 'numbered' | 'source-destination'): Contradiction | undefined {
  if (tableStyle === 'numbered') {
    if (prose.direction === 'egress' && !/^(?:n\/?a)?$/iu.test(prose.state)) {
      return { rule: 'state-on-egress', text: `an egress row with the state "${prose.state}", which only a listener has` };
    }
    return undefined;
  }
  if (prose.direction === 'egress' && prose.sourceIsSelf && /\blisten(?:s|ing)?\b/iu.test(prose.description)) {
    return { rule: 'listener-at-source', text: 'written from the product to a peer, but the description calls the port a listening port of the product' };
  }
  if (prose.direction === 'egress' && /\bINTERNAL ONLY\b/u.test(prose.description) && /\bmonitors\b/iu.test(prose.description)) {
    return { rule: 'monitor-written-as-egress', text: 'written from the product to a monitoring client, but the description says INTERNAL ONLY: a client that monitors the product' };
  }
  if (prose.direction !== 'egress' && /\bon the client PCs?\b/iu.test(prose.description)) {
    return { rule: 'client-port-at-destination', text: 'the destination is the product, but the description puts the port on the client PC' };
  }
  if (prose.direction !== 'egress' && prose.portInSourceColumn) {
    return { rule: 'port-on-source-side', text: 'the destination is the product, but the port is written on the source (client) side' };
  }
  return undefined;
}

// ---------------------------------------------------------------- document-level notes

export interface DocumentNoteRule {
  id: string;
  kind: DocumentNote['kind'];
  pattern: RegExp;
}

/** Prose outside the tables that changes what a scan should expect. */
export const DOCUMENT_NOTE_RULES: readonly DocumentNoteRule[] = [
  { id: 'all-ports-open', kind: 'firewall', pattern: /\bby default, all ports\b[^.]*\bare open\b/iu },
  { id: 'unlisted-ports-closable', kind: 'scope', pattern: /\bports not mentioned in this document\b/iu },
  { id: 'old-ports-remain', kind: 'legacy', pattern: /\bwill remain in use\b/iu },
  { id: 'block-after-upgrade', kind: 'legacy', pattern: /\bcan now be changed to block ports\b/iu },
];

export interface DocumentNoteHit {
  rule: string;
  note: DocumentNote;
}

const NOTE_KEPT_WHOLE = 260;

export function findDocumentNotes(prose: readonly { line: number; text: string }[]): DocumentNoteHit[] {
  const hits: DocumentNoteHit[] = [];
  for (const { line, text } of prose) {
    for (const rule of DOCUMENT_NOTE_RULES) {
      const match = rule.pattern.exec(text);
      if (!match) continue;
      // A short note is kept whole (its ports may sit in the sentence before the match).
      const words = text.length <= NOTE_KEPT_WHOLE ? text : sentenceAround(text, match.index, match[0].length);
      hits.push({ rule: rule.id, note: { kind: rule.kind, text: words, line } });
    }
  }
  return hits;
}
