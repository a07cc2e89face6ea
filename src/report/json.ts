/** The saved result itself: versioned (schema, schemaVersion), described by schemas/result.schema.json. */
import type { ScanResult } from '../result/model.js';
import { toJsonText } from '../util/untrusted-text.js';

export function renderJson(result: ScanResult): string {
  return `${toJsonText(result)}\n`;
}
