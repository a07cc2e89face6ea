/** The saved result itself: versioned (schema, schemaVersion), described by schemas/result.schema.json. */
import type { ScanResult } from '../result/model.js';

export function renderJson(result: ScanResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
