/**
 * `portmatrix scan --ports none --udp <list>` through the built CLI on loopback: a UDP responder
 * started here is open, a port that was just free is closed, and no TCP port is scanned.
 */
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanResult } from '../../src/result/model.js';
import { findFoldedState } from '../../src/model/host-ports.js';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'bin', 'portmatrix.js');

let responder: dgram.Socket;
let responderPort = 0;
let closedPort = 0;
let work = '';

async function bindUdp(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pm-udp-cli-'));
  responder = await bindUdp();
  responder.on('message', (_message, remote) => responder.send(Buffer.from('pong'), remote.port, remote.address));
  responderPort = responder.address().port;
  const free = await bindUdp();
  closedPort = free.address().port;
  await new Promise<void>((resolve) => free.close(resolve));
});

afterAll(() => {
  responder.close();
  rmSync(work, { recursive: true, force: true });
});

describe('portmatrix scan --ports none --udp <list> (built CLI, loopback)', () => {
  it('a responder is open, a free port closed, and nothing else is scanned', async () => {
    const output = join(work, 'udp.json');
    const { code, stderr } = await runCli(['scan', '127.0.0.1', '--ports', 'none', '--udp', `${responderPort},${closedPort}`, '--no-progress', '--format', 'json', '--output', output]);
    expect(stderr).toBe(`wrote ${output}\n`);
    expect(code).toBe(0);
    const result = JSON.parse(readFileSync(output, 'utf8')) as ScanResult;
    const host = result.hosts[0]!;
    expect(result.complete).toBe(true);
    expect(host.plan.tcp).toBe('');
    expect(host.plan.udp.split(',').map(Number).sort((a, b) => a - b)).toEqual([responderPort, closedPort].sort((a, b) => a - b));
    expect(host.observations.filter((observation) => observation.transport === 'tcp')).toEqual([]);
    expect(host.observations.find((observation) => observation.port === responderPort)).toMatchObject({ transport: 'udp', state: 'open', reason: 'udp-response' });
    const closed = host.observations.find((observation) => observation.port === closedPort) ?? findFoldedState(host.folded, 'udp');
    expect(closed).toMatchObject({ state: 'closed', reason: 'icmp-port-unreach' });
    expect(host.folded.reduce((sum, entry) => sum + entry.count, 0) + host.observations.length).toBe(2);
  });

  it('--udp defaults to the common UDP list without --matrix, and --ports none --udp none is a usage error', async () => {
    const { code, stdout } = await runCli(['scan', '127.0.0.1', '--ports', 'none', '--no-progress', '--format', 'json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as ScanResult;
    expect(result.parameters.udp).toBe('37,53,67-69,123,161-162,500,514,520,1645-1646,1701,1718-1719,1812-1813,2427,2727,3478,4500,4569,5004-5005,5060-5061,10162');
    const none = await runCli(['scan', '127.0.0.1', '--ports', 'none', '--udp', 'none']);
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toMatch(/nothing to scan/);
  });
});
