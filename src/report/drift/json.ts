/** The drift as JSON, self-describing (schema, schemaVersion) and described by schemas/drift.schema.json. */
import type { Drift } from '../../conformance/drift.js';
import { toJsonText } from '../../util/untrusted-text.js';
import { DRIFT_SCHEMA_ID, DRIFT_SCHEMA_VERSION } from './view.js';

export function renderDriftJson(drift: Drift): string {
  return `${toJsonText({ schema: DRIFT_SCHEMA_ID, schemaVersion: DRIFT_SCHEMA_VERSION, ...drift })}\n`;
}
