/**
 * Writes the published JSON Schemas of what portmatrix writes and reads (schemas/*.schema.json)
 * from their zod schemas, the same sources that read the files back. Run after changing a model:
 * `npm run schema:result`. A test fails when a committed file differs from what this writes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inventoryJsonSchema } from '../src/audit/inventory.js';
import { auditJsonSchema } from '../src/audit/schema.js';
import { driftJsonSchema } from '../src/report/drift/schema.js';
import { resultJsonSchema } from '../src/report/result-schema.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';

const asText = (schema: Record<string, unknown>): string => `${JSON.stringify(schema, null, 2)}\n`;

/** The exact text of schemas/result.schema.json. */
export function renderResultSchema(): string {
  return asText(resultJsonSchema());
}

/** The exact text of schemas/drift.schema.json. */
export function renderDriftSchema(): string {
  return asText(driftJsonSchema());
}

export const PUBLISHED_SCHEMAS: Record<string, () => string> = {
  'result.schema.json': renderResultSchema,
  'drift.schema.json': renderDriftSchema,
  'audit.schema.json': () => asText(auditJsonSchema()),
  'inventory.schema.json': () => asText(inventoryJsonSchema()),
};

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  for (const [file, render] of Object.entries(PUBLISHED_SCHEMAS)) {
    const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schemas', file);
    await writeFileAtomic(target, render());
    process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
  }
}
