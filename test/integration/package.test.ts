/**
 * The published package works on its own: `npm pack` (what npm publish would upload), installed
 * into an empty folder, runs the demo on loopback, validates a copy of a built-in matrix and
 * re-renders a saved result. Dependencies come from npm's cache where it has them (npm ci
 * filled it); the native build is skipped to keep this quick (the fallback is tested elsewhere).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/version.js';

const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-package-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** npm itself: the one running `npm test` when there is one, else npm beside node. */
function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  const cli = process.env.npm_execpath ?? path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  return spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 240_000, env: { ...process.env, PORTMATRIX_SKIP_NATIVE: '1', NO_COLOR: '1' } });
}

function portmatrix(app: string, args: string[]): SpawnSyncReturns<string> {
  const bin = path.join(app, 'node_modules', 'portmatrix', 'bin', 'portmatrix.js');
  return spawnSync(process.execPath, [bin, ...args], { cwd: app, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
}

describe('the packed package, installed into an empty folder', () => {
  it('carries the schemas, runs the demo, validates a matrix copy and re-renders a saved result', () => {
    // --ignore-scripts: pack the dist/ this checkout already built instead of building it again.
    const packed = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], PACKAGE_ROOT);
    expect(packed.status, packed.stderr).toBe(0);
    const [manifest] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const files = (manifest?.files ?? []).map((file) => file.path);
    for (const needed of ['schemas/result.schema.json', 'schemas/drift.schema.json', 'matrices/schema.json', 'matrices/ip-office-9.1.yaml', 'dist/src/index.js', 'bin/portmatrix.js']) {
      expect(files, needed).toContain(needed);
    }
    expect(files.filter((file) => /^(test|fixtures|scripts)\//u.test(file))).toEqual([]);

    const app = path.join(work, 'app');
    mkdirSync(app);
    const installed = npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=optional', path.join(work, manifest?.filename ?? '')], app);
    expect(installed.status, installed.stderr).toBe(0);
    expect(existsSync(path.join(app, 'node_modules', 'portmatrix', 'schemas', 'result.schema.json'))).toBe(true);

    const demo = portmatrix(app, ['demo', '--loopback', '--no-udp', '--output-dir', 'demo-out']);
    expect(demo.stderr).toMatch(/Injected deviations found by the scan: (\d+)\/\1 /);
    expect(demo.status).toBe(0);

    copyFileSync(path.join(app, 'node_modules', 'portmatrix', 'matrices', 'ip-office-9.1.yaml'), path.join(app, 'mine.yaml'));
    const validated = portmatrix(app, ['matrix', 'validate', 'mine.yaml']);
    expect(validated.stderr).toBe('');
    expect(validated.status).toBe(0);

    const report = portmatrix(app, ['report', path.join('demo-out', 'ip-office-9.1-demo.json'), '--format', 'markdown']);
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/tcp\/31337/);
  });
});
