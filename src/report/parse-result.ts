/**
 * Reading a saved result back (`portmatrix report`). Pure: the caller reads the file.
 * The object handed on is the parsed JSON itself, not zod's copy, so a re-rendered JSON
 * report is byte-identical to the saved one.
 */
import { MAX_JSON_DEPTH } from '../defaults.js';
import { PortmatrixError } from '../errors.js';
import { RESULT_SCHEMA_ID, RESULT_SCHEMA_VERSION } from '../result/model.js';
import type { ScanResult } from '../result/model.js';
import type { z } from 'zod';
import { scanResultSchema } from './result-schema.js';

export function parseResultText(text: string, file: string): ScanResult {
  return parseSavedDocument(text, file, { id: RESULT_SCHEMA_ID, version: RESULT_SCHEMA_VERSION, schema: scanResultSchema, what: 'result' }) as ScanResult;
}

/** A kind of file portmatrix writes and reads back: its schema id and version, and its zod schema. */
export interface SavedDocumentKind {
  id: string;
  version: number;
  schema: z.ZodType;
  /** "result", "audit": said in messages. */
  what: string;
}

/** JSON text checked against its kind (nesting bound, schema id, version, fields); the parsed JSON itself is returned. */
export function parseSavedDocument(text: string, file: string, kind: SavedDocumentKind): unknown {
  const hint = 'pass a result written by "portmatrix scan|audit --format json --output FILE"';
  const tooDeep = findExcessNesting(text, MAX_JSON_DEPTH);
  if (tooDeep !== undefined) {
    const before = text.slice(0, tooDeep);
    throw new PortmatrixError('E_RESULT', `${file}:${before.split('\n').length}:${tooDeep - before.lastIndexOf('\n')}: not a portmatrix ${kind.what}: nested deeper than ${MAX_JSON_DEPTH} levels`, { hint });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new PortmatrixError('E_RESULT', `${file}${jsonErrorPosition(text, error as Error)}: not a portmatrix ${kind.what}: invalid JSON (${firstClause((error as Error).message)})`, { hint, cause: error });
  }
  const header = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  if (!header || header.schema !== kind.id) {
    throw new PortmatrixError('E_RESULT', `${file}: not a portmatrix ${kind.what} (no "schema": "${kind.id}")`, { hint });
  }
  const version = header.schemaVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new PortmatrixError('E_RESULT', `${file}: schemaVersion: expected a positive integer, got ${JSON.stringify(version)}`);
  }
  if (version > kind.version) {
    throw new PortmatrixError('E_RESULT', `${file}: ${kind.what} schemaVersion ${version} is newer than this portmatrix reads (${kind.version})`, {
      hint: 'upgrade portmatrix to render it',
    });
  }
  const parsed = kind.schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`)).join('').replace(/^\./, '') : '';
    const more = parsed.error.issues.length - 1;
    throw new PortmatrixError('E_RESULT', `${file}: ${path ? `${path}: ` : ''}${issue?.message ?? `invalid ${kind.what}`}`, {
      hint: more > 0 ? `${more} more problem${more === 1 ? '' : 's'}; the file is damaged or was edited by hand` : 'the file is damaged or was edited by hand',
    });
  }
  return data;
}

/** The schema id a saved JSON document declares (to pick its reader); undefined when it is not an object with one. */
export function declaredSchema(text: string): string | undefined {
  const match = /^\s*\{\s*"schema"\s*:\s*"([^"]{1,64})"/.exec(text);
  return match?.[1];
}

/** ":line:col" from V8's "at position N", when it says so. */
function jsonErrorPosition(text: string, error: Error): string {
  const match = /at position (\d+)/.exec(error.message);
  if (!match) return '';
  const offset = Number(match[1]);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return `:${line}:${col}`;
}

function firstClause(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ in JSON at position \d+.*$/, '').replace(/, ".*$/, '');
}

/**
 * Offset of the first bracket that opens level maxDepth + 1, outside strings; undefined when the
 * text stays within the bound. Checked before JSON.parse, so that schema validation and the
 * renderers (which recurse over what they are given) never see a hostile nesting.
 */
function findExcessNesting(text: string, maxDepth: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index++; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      if (++depth > maxDepth) return index;
    } else if (code === 0x5d || code === 0x7d) depth--;
  }
  return undefined;
}
