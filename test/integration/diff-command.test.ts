/** The built CLI: `portmatrix diff` exits like ndiff (0 same, 1 changed, 2 bad input) and writes every drift format. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = (name: string): string => path.join(repoRoot, 'fixtures/results', name);
const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-diff-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin/portmatrix.js'), ...args], { cwd: work, encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('portmatrix diff', () => {
  it('exits 0 with "no change" for the same run', () => {
    const same = run('diff', fixture('ip-office-drift.json'), fixture('ip-office-drift.json'));
    expect(same.status).toBe(0);
    expect(same.stdout).toMatch(/no change on 1 host/);
  });

  it('exits 1 and writes every format when something changed; the waived run differs from the unwaived one by severities only', () => {
    const changed = run('diff', fixture('ip-office-drift.json'), fixture('ip-office-drift-waived.json'), '--format', 'table,json,markdown,html', '--output', 'd');
    expect(changed.status).toBe(1);
    expect(changed.stderr).toBe('wrote d.txt\nwrote d.json\nwrote d.md\nwrote d.html\n');
    const drift = JSON.parse(readFileSync(path.join(work, 'd.json'), 'utf8'));
    const host = drift.hosts[0];
    expect(host.status).toBe('changed');
    expect(host.ports).toEqual([]);
    expect(host.appeared).toEqual([]);
    expect(host.changed.length).toBeGreaterThan(0);
    expect(host.changed.every((change: { changes: string[] }) => change.changes.includes('severity'))).toBe(true);
    expect(readFileSync(path.join(work, 'd.txt'), 'utf8')).toMatch(/~ changed .*severity/);
  });

  it.each([
    ['missing file', ['diff', 'nope.json', fixture('ip-office-drift.json')], /^portmatrix: cannot read nope\.json: ENOENT/],
    ['not a result', ['diff', path.join(repoRoot, 'package.json'), fixture('ip-office-drift.json')], /not a portmatrix result/],
    ['unknown format', ['diff', fixture('ip-office-drift.json'), fixture('ip-office-drift.json'), '--format', 'junit'], /^portmatrix: unknown --format "junit" \(formats: table, json, markdown, html\)$/],
    ['one file', ['diff', fixture('ip-office-drift.json')], /^portmatrix: missing required argument/],
  ])('bad input (%s): one line, exit 2', (_name, args, pattern) => {
    const outcome = run(...args);
    expect(outcome.status).toBe(2);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(outcome.stderr.trimEnd()).toMatch(pattern);
  });
});
