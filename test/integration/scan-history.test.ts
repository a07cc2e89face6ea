/**
 * The built CLI: `portmatrix scan --history/--keep/--baseline/--notify` on 127.0.0.1 with real
 * listeners. A listener added between two runs, then one removed: each second run's reports
 * (terminal, JSON, Markdown, HTML) name exactly that change since the previous run; the
 * history keeps complete runs only (an interrupted scan writes its --output, marked incomplete,
 * and leaves `latest` alone); a history folder that cannot be written is one line and exit 2
 * before any packet; a webhook on 127.0.0.1 hears what appeared.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResultText } from '../../src/report/parse-result.js';

const REPO = path.join(import.meta.dirname, '..', '..');
const CLI = path.join(REPO, 'bin', 'portmatrix.js');
const MATRIX = path.join(REPO, 'fixtures/matrix/small.yaml');
const work = mkdtempSync(path.join(tmpdir(), 'pm-scan-history-'));
const listeners: NetServer[] = [];
const bodies: string[] = [];
let hook: Server;
let hookUrl = '';

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], onSpawn?: (pid: number) => Promise<void>): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: work, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    void onSpawn?.(child.pid!);
  });
}

async function listen(): Promise<NetServer> {
  const server = createNetServer((socket) => socket.destroy());
  listeners.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: NetServer): number => (server.address() as AddressInfo).port;
const close = (server: NetServer): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** A scan of `ports` on 127.0.0.1 against the small fixture matrix (connect: what the kernel answers, as root or not). */
function scanArgs(ports: number[], ...more: string[]): string[] {
  return ['scan', '127.0.0.1', '--ports', `5060,${ports.join(',')}`, '--udp', 'none', '--profile', 'fast', '--connect', '--checks', 'none', '--matrix', MATRIX, '--component', 'core', '--platform', 'linux', '--no-progress', ...more];
}

beforeAll(async () => {
  hook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      bodies.push(body);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  await Promise.all(listeners.filter((server) => server.listening).map(close));
  hook.closeAllConnections();
  await new Promise<void>((resolve) => hook.close(() => resolve()));
  rmSync(work, { recursive: true, force: true });
});

describe('portmatrix scan --history', () => {
  it('a listener added, then one removed: the reports of each later run name exactly that change', async () => {
    const stays = await listen();
    const comes = await listen();
    const goes = await listen();
    const ports = [portOf(stays), portOf(comes), portOf(goes)].sort((a, b) => a - b);
    // First run: "comes" is not listening yet (its port is known to be free, nothing else binds it here).
    const comesPort = portOf(comes);
    await close(comes);
    const first = await run(scanArgs(ports, '--history', 'h', '--notify', hookUrl));
    expect(first.status, first.stderr).toBe(1);
    expect(first.stdout).not.toContain('Since the previous run');
    const firstEntry = readlinkSync(path.join(work, 'h', 'latest'));
    expect(firstEntry).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z\.json$/);
    // With no earlier run, every error is new: the webhook hears the two extra listeners.
    expect(JSON.parse(bodies.at(-1)!).appeared.map((change: { port: string }) => change.port).sort()).toEqual([`tcp/${portOf(goes)}`, `tcp/${portOf(stays)}`].sort());

    // Second run: "comes" listens again on its port.
    const back = createNetServer((socket) => socket.destroy());
    listeners.push(back);
    await new Promise<void>((resolve, reject) => back.once('error', reject).listen(comesPort, '127.0.0.1', resolve));
    const added = back.address() as AddressInfo;
    const second = await run(scanArgs(ports, '--history', 'h', '--format', 'json,markdown,html', '--output', 'second', '--notify', hookUrl));
    expect(second.status, second.stderr).toBe(1);
    const result = parseResultText(readFileSync(path.join(work, 'second.json'), 'utf8'), 'second.json');
    const host = result.sincePrevious!.drift.hosts[0]!;
    expect(result.sincePrevious!.source).toBe(path.join('h', firstEntry));
    expect(result.sincePrevious!.matrixChanged).toBeUndefined();
    expect(host.ports).toEqual([{ transport: 'tcp', port: added.port, before: 'closed', after: 'open' }]);
    expect(host.appeared.map((finding) => `${finding.kind} ${finding.port}`)).toEqual([`extra-listener ${added.port}`]);
    expect(host.resolved).toEqual([]);
    expect(readFileSync(path.join(work, 'second.md'), 'utf8')).toMatch(new RegExp(`## Since the previous run[^\\n]*\\n[\\s\\S]*\\| tcp/${added.port} \\| closed \\| open \\|`));
    expect(readFileSync(path.join(work, 'second.html'), 'utf8')).toMatch(new RegExp(`<h2 id="since-previous">Since the previous run[\\s\\S]*<td>tcp/${added.port}</td><td>closed</td><td>open</td>`));
    // The summary table on the terminal carries the section too.
    expect(second.stdout).toContain(`+ tcp/${added.port}: closed -> open`);
    expect(second.stdout).toContain('findings: 1 appeared, 0 resolved, 0 changed');
    expect(JSON.parse(bodies.at(-1)!)).toMatchObject({ run: { command: 'scan', previous: path.join('h', firstEntry) }, appeared: [{ port: `tcp/${added.port}` }], resolved: [] });

    // Third run: "goes" stops listening.
    const gone = portOf(goes);
    await close(goes);
    const third = await run(scanArgs(ports, '--history', 'h', '--keep', '2'));
    expect(third.status, third.stderr).toBe(1);
    const sinceSection = third.stdout.slice(third.stdout.indexOf('Since the previous run'));
    expect(sinceSection.split('\n').filter((line) => /^\s+[-+~] /.test(line))).toEqual([
      `  - tcp/${gone}: open -> closed`,
      `  - resolved error Extra listener tcp/${gone}: tcp/${gone} is open but no row of the matrix documents it`,
    ]);
    // --keep 2: the first run went; latest is the third.
    const entries = readdirSync(path.join(work, 'h')).sort();
    expect(entries).toHaveLength(3);
    expect(entries).not.toContain(firstEntry);
    expect(third.stderr).toContain(`history: removed h/${firstEntry} (--keep 2)`);
    const latest = parseResultText(readFileSync(path.join(work, 'h', 'latest'), 'utf8'), 'latest');
    expect(latest.sincePrevious!.drift.hosts[0]!.ports).toEqual([{ transport: 'tcp', port: gone, before: 'open', after: 'closed' }]);

    // --baseline compares with the file named, not the history's latest: against the second run, one resolved.
    const baseline = await run(scanArgs(ports, '--baseline', 'second.json', '--format', 'json'));
    const againstSecond = JSON.parse(baseline.stdout).sincePrevious;
    expect(againstSecond.source).toBe('second.json');
    expect(againstSecond.drift.hosts[0].ports).toEqual([{ transport: 'tcp', port: gone, before: 'open', after: 'closed' }]);
  });

  it('a previous run of another matrix version: the section says so, and nothing drifted shows no drift', async () => {
    const stays = await listen();
    // The next edition of the document: another id, other row ids, the same expectations.
    const next = readFileSync(MATRIX, 'utf8').replace('id: small-pbx-1.0', 'id: small-pbx-1.1').replace('version: "1.0"', 'version: "1.1"').replaceAll('- id: core-', '- id: core11-');
    writeFileSync(path.join(work, 'small-1.1.yaml'), next);
    const first = await run(scanArgs([portOf(stays), 5488], '--history', 'editions'));
    expect(first.status, first.stderr).toBe(1);
    const second = await run([...scanArgs([portOf(stays), 5488], '--history', 'editions', '--format', 'json').map((arg) => (arg === MATRIX ? 'small-1.1.yaml' : arg))]);
    expect(second.status, second.stderr).toBe(1);
    const result = JSON.parse(second.stdout);
    // The missing listener on 5488 is the same finding under a new row id: judged again, it is no drift.
    expect(result.conformance.findings.some((finding: { kind: string; ref?: { rowId: string } }) => finding.kind === 'missing-listener' && finding.ref?.rowId === 'core11-2')).toBe(true);
    expect(result.sincePrevious.matrixChanged).toEqual({ before: 'small-pbx-1.0', after: 'small-pbx-1.1' });
    expect(result.sincePrevious.drift.equal).toBe(true);
    expect(result.sincePrevious.drift.before.matrices).toEqual(['small-pbx-1.0']);
    const table = await run(scanArgs([portOf(stays), 5488], '--baseline', path.join('editions', readlinkSync(path.join(work, 'editions', 'latest')))).map((arg) => (arg === MATRIX ? 'small-1.1.yaml' : arg)));
    expect(table.stdout).toContain('no change on 1 host');
    // Its baseline is the run of 1.1 now: the same matrix, nothing to say about editions.
    expect(table.stdout).not.toContain('was judged against');
    const back = await run(scanArgs([portOf(stays), 5488], '--baseline', path.join('editions', readlinkSync(path.join(work, 'editions', 'latest')))));
    expect(back.stdout).toContain('The previous run was judged against small-pbx-1.1: its ports are judged again against small-pbx-1.0 here');
    expect(back.stdout).toContain('no change on 1 host');
  });

  it('an interrupted scan writes its output, marked incomplete, and is not kept: latest stays the last complete run', async () => {
    const stays = await listen();
    const args = scanArgs([portOf(stays)], '--history', 'interrupted');
    const complete = await run(args);
    expect(complete.status, complete.stderr).toBe(1);
    const before = readlinkSync(path.join(work, 'interrupted', 'latest'));
    // gentle over every port: minutes of work, so the signal lands mid-scan; sent once a probe socket is open.
    const slow = ['scan', '127.0.0.1', '--ports', 'all', '--udp', 'none', '--profile', 'gentle', '--connect', '--matrix', MATRIX, '--component', 'core', '--platform', 'linux', '--history', 'interrupted', '--format', 'json', '--output', 'partial.json', '--no-progress'];
    const stopped = await run(slow, async (pid) => {
      for (let attempt = 0; attempt < 600 && !holdsSocket(pid); attempt++) await sleep(50);
      process.kill(pid, 'SIGINT');
    });
    expect(stopped.status).toBe(130);
    expect(stopped.stderr).toContain('history: this run is incomplete: not kept in interrupted (latest stays the last complete run)');
    const partial = parseResultText(readFileSync(path.join(work, 'partial.json'), 'utf8'), 'partial.json');
    expect(partial.complete).toBe(false);
    // Not compared either: ports it never reached would read as drift.
    expect(partial.sincePrevious).toBeUndefined();
    expect(readlinkSync(path.join(work, 'interrupted', 'latest'))).toBe(before);
    expect(readdirSync(path.join(work, 'interrupted')).sort()).toEqual([before, 'latest']);
  });

  it('a history folder that cannot be written: one line, exit 2, before any packet', async () => {
    writeFileSync(path.join(work, 'a-file'), 'not a folder');
    for (const dir of ['a-file', 'a-file/below']) {
      const refused = await run(scanArgs([9], '--history', dir, '--output', 'never.json', '--format', 'json'));
      expect(refused.status).toBe(2);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(new RegExp(`^portmatrix: --history ${dir}: (not a folder|ENOTDIR)`));
      expect(existsSync(path.join(work, 'never.json'))).toBe(false);
    }
    const badBaseline = await run(scanArgs([9], '--baseline', 'a-file'));
    expect(badBaseline.status).toBe(2);
    expect(badBaseline.stderr.trim().split('\n')).toHaveLength(1);
  });
});

function holdsSocket(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => Number(fd) > 2 && readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:'));
  } catch {
    return false;
  }
}
