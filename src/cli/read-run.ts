/** Reading a saved run for `diff`: a scan result or a fleet audit (every host, each judged against its own matrix) as a DriftRun. */
import { auditDriftRun } from '../audit/drift.js';
import { AUDIT_SCHEMA_ID } from '../audit/model.js';
import { parseAuditText } from '../audit/schema.js';
import { driftRunOf, type DriftRun } from '../conformance/drift.js';
import { declaredSchema, parseResultText } from '../report/parse-result.js';
import { readResult } from './read-result.js';

export async function readRunFile(file: string): Promise<DriftRun> {
  const text = await readResult(file);
  if (declaredSchema(text) !== AUDIT_SCHEMA_ID) return driftRunOf(parseResultText(text, file));
  return auditDriftRun(parseAuditText(text, file));
}
