import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { listBuiltinMatrices } from '../../../src/matrix/load.js';
import { matrixSchema } from '../../../src/matrix/model.js';
import { renderMatrixSchema } from '../../../scripts/write-schema.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const schemaText = await readFile(path.join(repoRoot, 'matrices/schema.json'), 'utf8');
const validateJsonSchema = new Ajv2020({ allErrors: true, strict: true }).compile(JSON.parse(schemaText) as object);

/** A matrix file as written (before defaults), the form both schemas judge. */
async function readYaml(file: string): Promise<unknown> {
  return parse(await readFile(file, 'utf8')) as unknown;
}

describe('matrices/schema.json', () => {
  it('is exactly what scripts/write-schema.ts generates from the zod schema (run `npm run schema` after changing model.ts)', () => {
    expect(schemaText).toBe(renderMatrixSchema());
  });

  it('accepts every built-in matrix and the valid fixture, as the runtime schema does', async () => {
    const files = [...(await listBuiltinMatrices()).map((loaded) => loaded.path), path.join(repoRoot, 'fixtures/matrix/small.yaml')];
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) {
      const data = await readYaml(file);
      expect(matrixSchema.safeParse(data).success, file).toBe(true);
      expect(validateJsonSchema(data), `${file}: ${JSON.stringify(validateJsonSchema.errors?.slice(0, 3))}`).toBe(true);
    }
  });

  // Rules across fields (unique ids, known components and platforms, ordered ranges) cannot be said in
  // JSON Schema; they are checked at runtime only. Every other broken file is refused by both.
  const runtimeOnly = new Set([
    'duplicate-row-id.yaml',
    'unknown-component.yaml',
    'unknown-platform.yaml',
    'port-reversed-range.yaml',
  ]);

  it('refuses every broken fixture that is not a YAML syntax error, as the runtime schema does (except cross-field rules)', async () => {
    const dir = path.join(repoRoot, 'fixtures/matrix/broken');
    const names = (await readdir(dir)).filter((name) => name.endsWith('.yaml') && !name.startsWith('yaml-'));
    expect(names.length).toBeGreaterThanOrEqual(12);
    for (const name of names) {
      const data = await readYaml(path.join(dir, name));
      expect(matrixSchema.safeParse(data).success, name).toBe(false);
      expect(validateJsonSchema(data), name).toBe(runtimeOnly.has(name));
    }
  });
});
