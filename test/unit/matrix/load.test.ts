import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PortmatrixError } from '../../../src/errors.js';
import { listBuiltinMatrixIds, loadMatrix } from '../../../src/matrix/load.js';
import { parseMatrixText } from '../../../src/matrix/parse.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const smallPath = path.join(repoRoot, 'fixtures/matrix/small.yaml');

async function caught(promise: Promise<unknown>): Promise<PortmatrixError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(PortmatrixError);
  return error as PortmatrixError;
}

describe('parseMatrixText', () => {
  it('fills in the documented defaults of a valid file', async () => {
    const matrix = parseMatrixText(await readFile(smallPath, 'utf8'), 'small.yaml');
    expect(matrix.id).toBe('small-pbx-1.0');
    const egress = matrix.rows.find((row) => row.id === 'core-3');
    expect(egress).toMatchObject({ dynamic: false, peer: '', description: '', notes: [] });
    expect(matrix.rows.find((row) => row.id === 'core-5')?.state).toEqual({ conditional: 'Open if HA' });
    expect(matrix.components.find((component) => component.id === 'voicemail')?.default).toBe(false);
  });

  it('names the file it was given, line and column, and the field path', () => {
    const text = ['schemaVersion: 1', 'id: x', 'product: X', 'version: "1"', 'document: { title: T }', 'platforms: [{ id: p, name: P }]',
      'components: [{ id: c, name: C, platforms: [p] }]', 'rows:', '  - id: r1', '    component: c', '    direction: ingress',
      '    transports: [tcp]', '    ports: "22,70000"', '    state: open', '    optional: false', '    protocol: TCP/SSH',
      '    ref: { table: T, row: "1" }', ''].join('\n');
    expect(() => parseMatrixText(text, 'matrices/x.yaml')).toThrow('matrices/x.yaml:13:12: rows[0].ports: port 70000 is outside 1-65535');
  });

  it('reports a syntax error as E_MATRIX_SYNTAX and a schema problem as E_MATRIX_INVALID', () => {
    const syntax = (() => {
      try {
        parseMatrixText('a: [1, 2\n', 'f.yaml');
      } catch (error) {
        return error;
      }
    })() as PortmatrixError;
    expect(syntax.code).toBe('E_MATRIX_SYNTAX');
    expect(syntax.message.startsWith('f.yaml:')).toBe(true);
    expect(() => parseMatrixText('schemaVersion: 1\n', 'f.yaml')).toThrow(/^f\.yaml:1:1: id: missing required field "id"$/);
  });

  it('counts further problems in the hint', () => {
    try {
      parseMatrixText('schemaVersion: 2\nid: X\n', 'f.yaml');
      expect.unreachable();
    } catch (error) {
      const problem = error as PortmatrixError;
      // Missing fields are reported where their mapping starts, so they come first, in schema order.
      expect(problem.message).toBe('f.yaml:1:1: product: missing required field "product"');
      // version, document, platforms, components, rows missing; schemaVersion and id wrong.
      expect(problem.hint).toBe('7 more problems after this one');
    }
  });
});

describe('loadMatrix', () => {
  it('loads a matrix file by path', async () => {
    const loaded = await loadMatrix(path.relative(process.cwd(), smallPath));
    expect(loaded.builtin).toBe(false);
    expect(loaded.path).toBe(smallPath);
    expect(loaded.matrix.rows).toHaveLength(8);
  });

  it('says which built-in ids exist when neither a file nor an id matches', async () => {
    const error = await caught(loadMatrix('ip-office-0.0'));
    expect(error.code).toBe('E_MATRIX_NOT_FOUND');
    expect(error.message).toBe('matrix "ip-office-0.0" not found: no such file and no built-in matrix of that id');
    const ids = await listBuiltinMatrixIds();
    for (const id of ids) expect(error.hint).toContain(id);
  });

  it('refuses a directory with one line', async () => {
    const error = await caught(loadMatrix(path.join(repoRoot, 'fixtures/matrix/broken/')));
    expect(error.code).toBe('E_MATRIX_NOT_FOUND');
    expect(error.message).toMatch(/is a directory, not a regular file$/);
  });

  it('loads every built-in matrix by id, marked built-in, named by its place in the package', async () => {
    const ids = await listBuiltinMatrixIds();
    for (const id of ids) {
      const loaded = await loadMatrix(id);
      expect(loaded.builtin).toBe(true);
      expect(loaded.matrix.id).toBe(id);
      expect(loaded.path).toBe(path.join(repoRoot, 'matrices', `${id}.yaml`));
    }
  });
});
