/**
 * The built CLI: `portmatrix audit` on loopback with --history and --notify. The first run keeps
 * its report set under the history and notifies what appeared; after the extra listener goes, the
 * second run's reports say what changed since the previous run, the webhook hears what resolved,
 * and a webhook that fails makes the exit code 5 only with --notify-required, after the reports
 * are written. Bad inventories are one line and exit 2.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-audit-cli-'));
const bodies: { server: string; body: string }[] = [];
const servers: Server[] = [];
let listener: NetServer;
let extraPort = 0;
let okHook = '';
let failingHook = '';

function run(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  // Asynchronous: the webhooks answer from this process.
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/portmatrix.js'), ...args], { cwd: work, env: { ...process.env, NO_COLOR: '1', HOOK_URL: okHook } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function hook(name: string, status: number): Promise<string> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      bodies.push({ server: name, body });
      response.writeHead(status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/secret-token`;
}

beforeAll(async () => {
  okHook = await hook('ok', 200);
  failingHook = await hook('failing', 500);
  listener = createNetServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  extraPort = (listener.address() as AddressInfo).port;
  writeFileSync(
    path.join(work, 'fleet.yaml'),
    `schemaVersion: 1\ndefaults: { matrix: ${path.join(repoRoot, 'fixtures/matrix/small.yaml')}, components: [core], platform: linux, profile: normal, udp: none }\nhosts:\n  - { name: pbx, address: 127.0.0.1, ports: "5060-5061,5488-5489,${extraPort}" }\n`,
  );
});

afterAll(async () => {
  listener.close();
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  rmSync(work, { recursive: true, force: true });
});

describe('portmatrix audit --history --notify', () => {
  it('keeps each run, says what changed since the previous one, and notifies what appeared and resolved', async () => {
    const first = await run('audit', 'fleet.yaml', '--history', 'history', '--notify', 'env:HOOK_URL', '--no-progress');
    expect(first.status, first.stderr).toBe(1);
    expect(first.stderr).toContain('notify: delivered to env:HOOK_URL (http://127.0.0.1:');
    expect(first.stderr).not.toContain('secret-token');
    const appeared = JSON.parse(bodies.at(-1)!.body);
    expect(appeared.appeared.map((change: { kind: string; port: string }) => `${change.kind} ${change.port}`)).toContain(`extra-listener tcp/${extraPort}`);
    const firstEntry = readlinkSync(path.join(work, 'history', 'latest'));

    await new Promise<void>((resolve) => listener.close(() => resolve()));
    const second = await run('audit', 'fleet.yaml', '--history', 'history', '--notify', okHook, '--notify', failingHook, '--notify-format', 'slack', '--no-progress');
    // Missing listeners of the small matrix remain: still exit 1; the failing webhook is only reported.
    expect(second.status, second.stderr).toBe(1);
    expect(second.stderr).toMatch(/portmatrix: notify: not delivered to http:\/\/127\.0\.0\.1:\d+\/… after 3 attempts: HTTP 500/);
    const latest = readlinkSync(path.join(work, 'history', 'latest'));
    expect(latest).not.toBe(firstEntry);
    const index = readFileSync(path.join(work, 'history', latest, 'index.html'), 'utf8');
    expect(index).toContain('Since the previous run');
    const drift = JSON.parse(readFileSync(path.join(work, 'history', latest, 'drift.json'), 'utf8'));
    expect(drift.hosts[0].resolved.map((finding: { kind: string; port: number }) => `${finding.kind} ${finding.port}`)).toEqual([`extra-listener ${extraPort}`]);
    expect(second.stdout).toContain('Since the previous run');
    expect(JSON.parse(bodies.filter((entry) => entry.server === 'ok').at(-1)!.body).text).toMatch(/0 findings at error or above appeared, 1 resolved/);

    // Asked to count: the undelivered notification makes it exit 5, the reports are written all the same.
    const third = await run('audit', 'fleet.yaml', '--baseline', path.join('history', firstEntry, 'audit.json'), '--output', 'third', '--notify', failingHook, '--notify-required', '--no-progress');
    expect(third.status).toBe(5);
    expect(existsSync(path.join(work, 'third', 'audit.json'))).toBe(true);
  }, 120_000);

  it.each([
    ['missing inventory', ['audit', 'nope.yaml'], /^portmatrix: cannot read inventory nope\.yaml: ENOENT/],
    ['bad shard', ['audit', 'fleet.yaml', '--shard', '4/3'], /^portmatrix: --shard "4\/3": expected i\/n/],
    ['bad notify target', ['audit', 'fleet.yaml', '--notify', 'env:NOT_SET_ANYWHERE'], /^portmatrix: --notify env:NOT_SET_ANYWHERE: the environment variable NOT_SET_ANYWHERE is not set/],
    ['unknown site', ['audit', 'fleet.yaml', '--site', 'mars'], /^portmatrix: no host of the inventory is at --site mars/],
  ])('%s: one line, exit 2', async (_name, args, pattern) => {
    const outcome = await run(...args);
    expect(outcome.status).toBe(2);
    expect(outcome.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(outcome.stderr.trimEnd()).toMatch(pattern);
  });
});
