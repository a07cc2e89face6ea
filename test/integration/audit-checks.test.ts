/**
 * The built CLI: service checks in `portmatrix audit`, as in `scan`. Two hosts on loopback
 * (127.0.0.1 and 127.0.0.2), each with a listener no matrix row documents: by default (documented)
 * nothing is checked on them, an inventory `checks: all` checks its host's listener, and
 * `audit --checks none` turns checks off for every host whatever the inventory says.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuditText } from '../../src/audit/schema.js';

const REPO = path.join(import.meta.dirname, '..', '..');
const CLI = path.join(REPO, 'bin', 'portmatrix.js');
const work = mkdtempSync(path.join(tmpdir(), 'pm-audit-checks-'));
const listeners: Server[] = [];
const ports: Record<string, number> = {};

function audit(...args: string[]) {
  return spawnSync(process.execPath, [CLI, 'audit', ...args], { cwd: work, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
}

function inventory(file: string, checksOfSecond: string): void {
  writeFileSync(
    path.join(work, file),
    [
      'schemaVersion: 1',
      `defaults: { matrix: ${path.join(REPO, 'fixtures/matrix/small.yaml')}, components: [core], platform: linux, profile: fast, udp: none }`,
      'hosts:',
      `  - { name: first, address: 127.0.0.1, ports: "${ports['127.0.0.1']}" }`,
      `  - { name: second, address: 127.0.0.2, ports: "${ports['127.0.0.2']}", checks: ${checksOfSecond} }`,
      '',
    ].join('\n'),
  );
}

beforeAll(async () => {
  for (const address of ['127.0.0.1', '127.0.0.2']) {
    const server = createServer((socket) => socket.end());
    listeners.push(server);
    await new Promise<void>((resolve) => server.listen(0, address, resolve));
    ports[address] = (server.address() as AddressInfo).port;
  }
  inventory('fleet.yaml', 'all');
});

afterAll(async () => {
  await Promise.all(listeners.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  rmSync(work, { recursive: true, force: true });
});

describe('audit and service checks', () => {
  it('scan defaults where the inventory says nothing; an inventory checks: sets one host', () => {
    const run = audit('fleet.yaml', '--format', 'json', '--no-progress');
    expect(run.status, run.stderr).toBe(1);
    const [first, second] = parseAuditText(run.stdout, 'stdout').hosts;
    expect(first!.result.parameters.checks).toBe('documented');
    // Nothing documented is open on the first host: no port to check.
    expect(first!.result.checks?.services).toEqual([]);
    expect(second!.result.parameters.checks).toBe('all');
    expect(second!.result.checks?.services.map((service) => `${service.host} ${service.port}`)).toEqual([`127.0.0.2 ${ports['127.0.0.2']}`]);
  });

  it('audit --checks none: no host is checked, whatever its inventory entry says', () => {
    const run = audit('fleet.yaml', '--format', 'json', '--no-progress', '--checks', 'none');
    expect(run.status, run.stderr).toBe(1);
    for (const host of parseAuditText(run.stdout, 'stdout').hosts) {
      expect(host.result.parameters.checks).toBe('none');
      expect(host.result.checks).toBeUndefined();
    }
  });

  it('a checks: value that is not a mode: one line naming where, exit 2', () => {
    inventory('bad.yaml', 'sometimes');
    const run = audit('bad.yaml', '--no-progress');
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/bad\.yaml:5:\d+.*checks/);
  });
});
