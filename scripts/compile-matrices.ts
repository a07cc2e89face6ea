/**
 * Part of `npm run build`: each built-in matrix, validated, as JSON in dist/matrices/, named with
 * the SHA-256 of the text it came from. Loading a built-in then skips the YAML parser and the schema (most of a
 * scan's start-up); an edited YAML no longer matches its hash and is parsed as before.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BUILTIN_MATRIX_DIR, COMPILED_MATRIX_DIR, listBuiltinMatrixIds } from '../src/matrix/load.js';
import { compileMatrixText } from '../src/matrix/parse.js';

await mkdir(COMPILED_MATRIX_DIR, { recursive: true });
for (const id of await listBuiltinMatrixIds()) {
  const file = path.join(BUILTIN_MATRIX_DIR, `${id}.yaml`);
  const compiled = compileMatrixText(await readFile(file, 'utf8'), path.relative(process.cwd(), file));
  await writeFile(path.join(COMPILED_MATRIX_DIR, `${id}.json`), `${JSON.stringify(compiled)}\n`);
}
