/**
 * Writes schemas/result.schema.json from the zod result schema (the same source that reads
 * saved results back). Run after changing src/result/model.ts: `npm run schema:result`.
 * A test fails when the committed file differs from what this writes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultJsonSchema } from '../src/report/result-schema.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';

/** The exact text of schemas/result.schema.json. */
export function renderResultSchema(): string {
  return `${JSON.stringify(resultJsonSchema(), null, 2)}\n`;
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schemas/result.schema.json');
  await writeFileAtomic(target, renderResultSchema());
  process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
}
