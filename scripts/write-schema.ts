/**
 * Writes matrices/schema.json from the zod matrix schema (the same source as runtime
 * validation). Run after changing src/matrix/model.ts: `npm run schema`.
 * A test fails when the committed file differs from what this writes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { matrixJsonSchema } from '../src/matrix/model.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';

/** The exact text of matrices/schema.json. */
export function renderMatrixSchema(): string {
  return `${JSON.stringify(matrixJsonSchema(), null, 2)}\n`;
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../matrices/schema.json');
  await writeFileAtomic(target, renderMatrixSchema());
  process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
}
