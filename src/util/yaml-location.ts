/**
 * Turning YAML parse errors and zod issues into "file:line:col: field.path: what" lines.
 * Shared by every YAML input (matrix files, policy files), so that all of them point at
 * the same place for the same kind of mistake. Pure: the caller reads the file.
 */
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { MAX_YAML_ALIAS_COUNT } from '../defaults.js';

export type PathSegment = string | number;

export interface YamlProblem {
  path: PathSegment[];
  message: string;
  /** Offset in the text the problem is reported at. */
  offset: number;
  kind?: 'missing-field' | 'unknown-field';
}

export interface ParsedYaml {
  doc: Document;
  data: unknown;
  /** "file:line:col" of an offset in the text. */
  where: (offset: number) => string;
}

/** The first syntax error, or the parsed document. Never throws. */
export function parseYamlText(
  text: string,
  file: string,
): { ok: true; parsed: ParsedYaml } | { ok: false; problem: YamlProblem; where: (offset: number) => string; more: number } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const syntaxError = doc.errors[0];
  if (syntaxError) {
    const message = (syntaxError.message.split('\n')[0] ?? syntaxError.message).trim();
    // The parser reports runaway nesting as a stack overflow: say what it means for the file.
    const said = /call stack/i.test(message) ? 'nested too deeply' : message;
    return { ok: false, problem: { path: [], message: `YAML syntax: ${said}`, offset: syntaxError.pos[0] }, where, more: doc.errors.length - 1 };
  }
  try {
    return { ok: true, parsed: { doc, data: doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT }), where } };
  } catch (error) {
    // yaml throws a ReferenceError for an alias bomb ("billion laughs"); the file is refused, not expanded.
    if (!(error instanceof ReferenceError || error instanceof RangeError)) throw error;
    const message = error instanceof ReferenceError ? `YAML aliases expand too far (more than ${MAX_YAML_ALIAS_COUNT} alias uses)` : 'YAML nested too deeply';
    return { ok: false, problem: { path: [], message, offset: 0 }, where, more: 0 };
  }
}

/** rows[12].ports */
export function formatPath(segments: readonly PathSegment[]): string {
  return segments.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`)).join('');
}

/** "file:line:col: path: message" for one problem. */
export function formatProblem(problem: YamlProblem, where: (offset: number) => string): string {
  return `${where(problem.offset)}: ${problem.path.length > 0 ? `${formatPath(problem.path)}: ` : ''}${problem.message}`;
}

/** Every zod issue located in the YAML document, in file order (a user fixes a file from the top). */
export function locateZodIssues(issues: readonly z.core.$ZodIssue[], data: unknown, doc: Document, schema: z.ZodType): YamlProblem[] {
  const problems = issues.flatMap((issue) => describeIssue(issue, data, doc, schema));
  // One problem per field: a port spec failing both the parser and the pattern is one mistake.
  const seen = new Set<string>();
  const distinct = problems.filter((problem) => {
    const key = formatPath(problem.path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // A misspelt field is both unknown and missing; the unknown one says what to fix, so it goes first.
  const parentOf = (problem: YamlProblem): string => formatPath(problem.path.slice(0, -1));
  const misspeltIn = new Set(distinct.filter((problem) => problem.kind === 'unknown-field').map(parentOf));
  const rank = (problem: YamlProblem): number => (problem.kind === 'missing-field' && misspeltIn.has(parentOf(problem)) ? 1 : 0);
  return distinct.sort((a, b) => rank(a) - rank(b) || a.offset - b.offset);
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown, doc: Document, schema: z.ZodType): YamlProblem[] {
  const issuePath = issue.path.filter((segment): segment is PathSegment => typeof segment !== 'symbol');
  const input = valueAt(data, issuePath);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = fieldsAt(schema, issuePath);
      return issue.keys.map((key) => ({
        path: [...issuePath, key],
        message: `unknown field "${key}"${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''}`,
        offset: offsetOfPath(doc, [...issuePath, key], true),
        kind: 'unknown-field' as const,
      }));
    }
    case 'invalid_type': {
      if (input === undefined) {
        const field = issuePath[issuePath.length - 1];
        return [{ path: issuePath, message: `missing required field "${String(field)}"`, offset: offsetOfPath(doc, issuePath), kind: 'missing-field' }];
      }
      // YAML reads an unquoted 22 as a number; where a string is expected, say how to write it.
      const quoteHint =
        issue.expected === 'string' && (typeof input === 'number' || typeof input === 'boolean') ? ` (quote it: "${String(input)}")` : '';
      return [{ path: issuePath, message: `expected ${issue.expected}, got ${describeValue(input)}${quoteHint}`, offset: offsetOfPath(doc, issuePath) }];
    }
    case 'too_small': {
      const empty = Number(issue.minimum) === 1 && (issue.origin === 'array' || issue.origin === 'string');
      const message = !empty ? issue.message : issue.origin === 'array' ? 'must list at least one item' : 'must not be empty';
      return [{ path: issuePath, message, offset: offsetOfPath(doc, issuePath) }];
    }
    case 'invalid_value': {
      const values = issue.values.map((value) => JSON.stringify(value));
      const message =
        values.length === 1
          ? `expected ${values[0]}, got ${describeValue(input)}`
          : `unknown value ${describeValue(input)}: expected one of ${issue.values.join(', ')}`;
      return [{ path: issuePath, message, offset: offsetOfPath(doc, issuePath) }];
    }
    case 'invalid_key': {
      // A record key that is not allowed (e.g. an unknown finding kind): point at the key.
      const key = issuePath[issuePath.length - 1];
      return [{ path: issuePath, message: `unknown key "${String(key)}": ${issue.issues[0]?.message ?? issue.message}`, offset: offsetOfPath(doc, issuePath, true) }];
    }
    default:
      return [{ path: issuePath, message: issue.message, offset: offsetOfPath(doc, issuePath) }];
  }
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  // Cut long text (a whole non-YAML file parses as one string): the message stays one readable line.
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return `${typeof value} ${String(value)}`;
}

function valueAt(data: unknown, segments: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of segments) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PathSegment, unknown>)[segment];
  }
  return value;
}

/**
 * Offset of the YAML node at `segments`, or of the deepest node that exists on the way
 * (a missing field is reported where its mapping starts). With `atKey`, the last segment
 * is a mapping key and the key itself is located (unknown fields).
 */
export function offsetOfPath(doc: Document, segments: readonly PathSegment[], atKey = false): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [index, segment] of segments.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      next = pair && atKey && index === segments.length - 1 ? pair.key : pair?.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
    }
    const start = rangeStart(next);
    if (start === undefined) break;
    node = next;
    offset = start;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return node && typeof node === 'object' && 'range' in node ? (node as YamlNode).range?.[0] : undefined;
}

/** The field names the schema allows at `segments` (for "unknown field" messages). */
function fieldsAt(schema: z.ZodType, segments: readonly PathSegment[]): string[] {
  let current: z.ZodType | undefined = schema;
  for (const segment of segments) {
    current = unwrap(current);
    if (current instanceof z.ZodObject && typeof segment === 'string') current = current.shape[segment] as z.ZodType | undefined;
    else if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else return [];
  }
  current = unwrap(current);
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodPipe) {
    current = current instanceof z.ZodPipe ? (current.in as z.ZodType) : (current.unwrap() as z.ZodType);
  }
  return current;
}
