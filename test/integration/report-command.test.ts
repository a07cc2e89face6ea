/**
 * The built CLI (node bin/portmatrix.js, after `npm run build`): `portmatrix report` re-renders a
 * saved result byte for byte, writes several formats at once, and turns bad input into one line
 * and exit 2.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RENDERERS, REPORT_FORMATS } from '../../src/report/index.js';
import { parseResultText } from '../../src/report/parse-result.js';
import { describeNeeding } from '../helpers/requirements.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = path.join(repoRoot, 'fixtures/results/ip-office-drift-waived.json');
const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-report-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin/portmatrix.js'), ...args], {
    cwd: work,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('portmatrix report', () => {
  it('writes every format at once, and re-rendering its own JSON gives the same bytes', () => {
    const first = run('report', fixture, '--format', 'json,html,markdown', '--format', 'junit,table', '--output', 'run1');
    expect(first.stderr).toBe('wrote run1.json\nwrote run1.html\nwrote run1.md\nwrote run1.junit.xml\nwrote run1.txt\n');
    expect(first.status).toBe(0);
    expect(readFileSync(path.join(work, 'run1.json'), 'utf8')).toBe(readFileSync(fixture, 'utf8'));
    const second = run('report', 'run1.json', '--format', REPORT_FORMATS.join(','), '--output', 'run2.json');
    expect(second.status).toBe(0);
    const result = parseResultText(readFileSync(fixture, 'utf8'), fixture);
    for (const [format, ending] of [['json', '.json'], ['html', '.html'], ['markdown', '.md'], ['junit', '.junit.xml'], ['table', '.txt']] as const) {
      const again = readFileSync(path.join(work, `run2${ending}`));
      expect(again.equals(readFileSync(path.join(work, `run1${ending}`))), format).toBe(true);
      expect(again.toString('utf8')).toBe(RENDERERS[format](result));
    }
  });

  it('prints one format to standard output, without colour when it is not a terminal', () => {
    const shown = run('report', fixture);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain('Result: NOT conformant at --fail-on warning');
    expect(shown.stdout).not.toContain('\u001b');
    const markdown = run('report', fixture, '--format', 'markdown');
    expect(markdown.stdout.startsWith('# Port conformance: IP Office 9.1\n')).toBe(true);
  });

  it('judges a saved result again with --policy, --strict and --fail-on, exiting with the new verdict', () => {
    const drift = path.join(repoRoot, 'fixtures/results/ip-office-drift.json');
    expect(run('report', drift, '--fail-on', 'error').status).toBe(1);
    expect(run('report', drift, '--fail-on', 'never').status).toBe(0);
    const quiet = path.join(work, 'quiet.yaml');
    writeFileSync(quiet, `severities: {${['missing-listener', 'extra-listener', 'listener-moved'].map((kind) => `${kind}: notice`).join(', ')}}\n`);
    expect(run('report', drift, '--policy', quiet, '--fail-on', 'error').status).toBe(0);
    expect(run('report', drift, '--policy', quiet, '--strict', '--fail-on', 'error').status).toBe(1);
    // A waiver that has lapsed by now no longer suppresses: the saved "waived" finding is an error again.
    const lapsed = path.join(work, 'lapsed.yaml');
    writeFileSync(lapsed, 'waivers:\n  - { port: 8080, transport: tcp, reason: proxy, ticket: CHG-1, expires: 2000-01-01 }\n');
    const judged = run('report', fixture, '--policy', lapsed, '--fail-on', 'error', '--format', 'json');
    expect(judged.status).toBe(1);
    const extra = parseResultText(judged.stdout, 'stdout').conformance!.findings.find((finding) => finding.port === 8080)!;
    expect(extra).toMatchObject({ severity: 'error', waiver: { ticket: 'CHG-1', expired: true } });
    expect(run('report', fixture, '--policy', path.join(repoRoot, 'fixtures/policy/broken/does-not-exist.yaml')).status).toBe(2);
  });

  describe('bad input: one line, exit 2, before writing anything', () => {
    const newer = path.join(work, 'newer.json');
    writeFileSync(newer, readFileSync(fixture, 'utf8').replace('"schemaVersion": 1', '"schemaVersion": 7'));
    const readOnly = path.join(work, 'read-only');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    const cases: [string, string[], RegExp][] = [
      ['unknown format', ['report', fixture, '--format', 'pdf'], /^portmatrix: unknown --format "pdf" \(formats: table, json, markdown, html, junit, nmap-xml\)$/],
      ['several formats, no --output', ['report', fixture, '--format', 'json,html'], /^portmatrix: --format json,html writes several reports: name a base file with --output/],
      ['missing folder', ['report', fixture, '--format', 'html', '--output', 'no/such/dir/x.html'], /^portmatrix: cannot write --output no\/such\/dir\/x\.html: folder no\/such\/dir does not exist/],
      ['output is a folder', ['report', fixture, '--output', '.'], /^portmatrix: cannot write --output \.: it is a directory/],
      ['not a result', ['report', path.join(repoRoot, 'package.json')], /^portmatrix: .*package\.json: not a portmatrix result \(no "schema": "portmatrix\/result"\)/],
      ['newer schema', ['report', newer], /^portmatrix: .*newer\.json: result schemaVersion 7 is newer than this portmatrix reads \(1\) \(upgrade portmatrix to render it\)$/],
      ['missing file', ['report', 'nope.json'], /^portmatrix: cannot read nope\.json: ENOENT/],
    ];
    // root ignores folder permissions: only check the read-only folder when it would bite.
    if (process.getuid?.() !== 0) {
      cases.push(['read-only folder', ['report', fixture, '--output', path.join(readOnly, 'x.txt')], /is not writable/]);
    }
    it.each(cases)('%s', (_name, args, pattern) => {
      const outcome = run(...args);
      expect(outcome.status).toBe(2);
      expect(outcome.stdout).toBe('');
      const lines = outcome.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
    });
  });
});

describeNeeding('portmatrix report --output onto device nodes (root)', { root: true }, () => {
  it('a null device made with mknod stays that device; a full device is one line, exit 2, still a device', () => {
    const devices = mkdtempSync(path.join(work, 'dev-'));
    const nullDevice = path.join(devices, 'null');
    const fullDevice = path.join(devices, 'full');
    execFileSync('mknod', ['-m', '666', nullDevice, 'c', '1', '3']);
    execFileSync('mknod', ['-m', '666', fullDevice, 'c', '1', '7']);
    const before = statSync(nullDevice);
    const toNull = run('report', fixture, '--format', 'json', '--output', nullDevice);
    expect(toNull.status).toBe(0);
    const after = lstatSync(nullDevice);
    expect(after.isCharacterDevice()).toBe(true);
    expect([after.ino, after.rdev]).toEqual([before.ino, before.rdev]);
    const toFull = run('report', fixture, '--format', 'json', '--output', fullDevice);
    expect(toFull.stderr).toMatch(/^portmatrix: cannot write ".*\/full": ENOSPC \(.*\)\n$/);
    expect(toFull.status).toBe(2);
    expect(lstatSync(fullDevice).isCharacterDevice()).toBe(true);
    expect(readdirSync(devices).sort()).toEqual(['full', 'null']);
  });
});
