/**
 * Reading a saved result back (`portmatrix report`). Pure: the caller reads the file.
 * The object handed on is the parsed JSON itself, not zod's copy, so a re-rendered JSON
 * report is byte-identical to the saved one.
 */
import { PortmatrixError } from '../errors.js';
import { RESULT_SCHEMA_ID, RESULT_SCHEMA_VERSION } from '../result/model.js';
import type { ScanResult } from '../result/model.js';
import { scanResultSchema } from './result-schema.js';

export function parseResultText(text: string, file: string): ScanResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new PortmatrixError('E_RESULT', `${file}${jsonErrorPosition(text, error as Error)}: not a portmatrix result: invalid JSON (${firstClause((error as Error).message)})`, {
      hint: 'pass a result written by "portmatrix scan --format json --output FILE"',
    });
  }
  const header = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  if (!header || header.schema !== RESULT_SCHEMA_ID) {
    throw new PortmatrixError('E_RESULT', `${file}: not a portmatrix result (no "schema": "${RESULT_SCHEMA_ID}")`, {
      hint: 'pass a result written by "portmatrix scan --format json --output FILE"',
    });
  }
  const version = header.schemaVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new PortmatrixError('E_RESULT', `${file}: schemaVersion: expected a positive integer, got ${JSON.stringify(version)}`);
  }
  if (version > RESULT_SCHEMA_VERSION) {
    throw new PortmatrixError('E_RESULT', `${file}: result schemaVersion ${version} is newer than this portmatrix reads (${RESULT_SCHEMA_VERSION})`, {
      hint: 'upgrade portmatrix to render it',
    });
  }
  const parsed = scanResultSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`)).join('').replace(/^\./, '') : '';
    const more = parsed.error.issues.length - 1;
    throw new PortmatrixError('E_RESULT', `${file}: ${path ? `${path}: ` : ''}${issue?.message ?? 'invalid result'}`, {
      hint: more > 0 ? `${more} more problem${more === 1 ? '' : 's'}; the file is damaged or was edited by hand` : 'the file is damaged or was edited by hand',
    });
  }
  return data as ScanResult;
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
