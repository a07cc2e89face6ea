/** `portmatrix matrix import` through the built CLI (bin/portmatrix.js -> dist/): bad input, exit codes, the report. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { matrixSchema } from '../../../../src/matrix/model.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const bin = path.join(repoRoot, 'bin/portmatrix.js');
const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-import-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, 'matrix', 'import', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function file(name: string, content: string | Buffer): string {
  const target = path.join(work, name);
  writeFileSync(target, content);
  return target;
}

describe('portmatrix matrix import: not a port matrix -> one line, exit 2', () => {
  const binary = Buffer.from(Array.from({ length: 4096 }, (_, index) => (index * 7919) % 256));
  it.each([
    ['empty', file('empty.txt', ''), /empty\.txt: not a port matrix: the file is empty/],
    ['binary', file('blob.bin', binary), /blob\.bin: not a port matrix: the file is binary/],
    ['random text', file('prose.txt', 'Dear team,\n\nthe meeting moved to Thursday.\tRoom 4.\n'), /prose\.txt: not a port matrix: no port table found/],
    ['missing file', path.join(work, 'nope.txt'), /cannot read .*nope\.txt: ENOENT/],
  ])('%s', (_name, input, message) => {
    const result = run(input);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(result.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });
});

describe('portmatrix matrix import: a document excerpt', () => {
  it('writes the draft, reports repairs and the unreadable row by line, and exits 4', () => {
    const output = path.join(work, 'ipo.yaml');
    const result = run(path.join(repoRoot, 'fixtures/import/ip-office-excerpt.txt'), '--version', '9.1.0.0', '-o', output);
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/ip-office-excerpt\.txt:12: .*row Ingress 28: protocol "UPD\/Proprietary" has the typo UPD/);
    expect(result.stdout).toMatch(/unreadable[^\n]*\n\s+ip-office-excerpt\.txt:22: .*row Egress 13: the protocol cell is empty/);
    expect(result.stdout).toMatch(/repeated column headers: 1/);
    expect(result.stderr.trim()).toBe('portmatrix: 1 row needs a human (see the report); exit 4');
    const matrix = matrixSchema.parse(parse(readFileSync(output, 'utf8')));
    expect(matrix.product).toBe('IP Office');
    expect(matrix.version).toBe('9.1.0.0');
    expect(matrix.rows.map((row) => `${row.direction} ${row.transports.join('+')} ${row.ports}`)).toEqual([
      'ingress tcp 22',
      'ingress udp 40750-50750',
      'ingress udp 50780',
      'ingress udp 50792',
      'ingress tcp+udp 50794',
      'egress tcp+udp 514',
      'egress tcp+udp 5060-5061',
      'intra-device tcp 4096',
    ]);
    expect(matrix.rows[1]?.dynamic).toBe(true);
  });

  it('joins a row split by a page break, reads --self, and exits 0 when every row was read', () => {
    const output = path.join(work, 'sdk.yaml');
    const result = run(path.join(repoRoot, 'fixtures/import/client-sdk-excerpt.txt'), '--self', 'Communication Services Package', '-o', output);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/client-sdk-excerpt\.txt:12: .*row continues on line 18 after a page break/);
    const matrix = matrixSchema.parse(parse(readFileSync(output, 'utf8')));
    // The client's rows are egress, but for the incoming media whose destination is the package itself.
    const listeners = matrix.rows.filter((row) => row.direction !== 'egress');
    expect(listeners.map((row) => [row.direction, row.ports, row.configurable, row.dynamic])).toEqual([['ingress', '5004-5203', '1024-65535', true]]);
    const media = matrix.rows.find((row) => row.ref.line === 12);
    expect(media).toMatchObject({ ports: '1024-65535', transports: ['udp'], dynamic: true });
  });
});
