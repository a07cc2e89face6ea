/**
 * Built-in matrices compiled at build time (scripts/compile-matrices.ts): the loader takes the
 * compiled data only for the exact YAML text it came from, and a matrix loaded that way equals
 * the one parsed from the YAML.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCompiledMatrixData } from '../../../src/matrix/compiled.js';
import { BUILTIN_MATRIX_DIR, listBuiltinMatrixIds, loadMatrix } from '../../../src/matrix/load.js';
import { compileMatrixText, parseMatrixText } from '../../../src/matrix/parse.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portmatrix-compiled-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compiled built-in matrices', () => {
  it('every built-in loads to the same matrix as its YAML parses to', async () => {
    const ids = await listBuiltinMatrixIds();
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) {
      const text = readFileSync(path.join(BUILTIN_MATRIX_DIR, `${id}.yaml`), 'utf8');
      expect((await loadMatrix(id)).matrix).toEqual(parseMatrixText(text, id));
    }
  });

  it('compiled data is used only for the text it was compiled from', async () => {
    const text = readFileSync(path.join(BUILTIN_MATRIX_DIR, 'cms-r20.yaml'), 'utf8');
    const compiled = compileMatrixText(text, 'cms-r20.yaml');
    writeFileSync(path.join(dir, 'cms-r20.json'), JSON.stringify(compiled));
    expect(await readCompiledMatrixData(dir, 'cms-r20', text)).toEqual(compiled.data);
    // One character changed in the YAML: the compiled data is stale and ignored.
    expect(await readCompiledMatrixData(dir, 'cms-r20', `${text}\n# edited\n`)).toBeUndefined();
    expect(await readCompiledMatrixData(dir, 'absent', text)).toBeUndefined();
    writeFileSync(path.join(dir, 'broken.json'), '{ not json');
    expect(await readCompiledMatrixData(dir, 'broken', text)).toBeUndefined();
  });

  it('a built-in that does not validate fails the compile with the located error', () => {
    expect(() => compileMatrixText('schemaVersion: 1\nrows: 7\n', 'bad.yaml')).toThrow(/^bad\.yaml:\d+:\d+: /);
  });
});
