/**
 * The TCP scan type as a user meets it (built CLI, 127.0.0.1 only): as root a SYN scan by default
 * and a connect scan with --connect, each recorded in the result and in nmap XML; without
 * CAP_NET_RAW the default is a connect scan without a word, and --syn says in one line why it
 * scans with connect instead.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { ScanResult } from '../../src/result/model.js';
import { itNeeding } from '../helpers/requirements.js';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'bin', 'portmatrix.js');
let server: Server;
let openPort = 0;
let closedPort = 0;

function runCli(args: string[], prefix: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const argv = [...prefix, process.execPath, CLI, ...args];
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { cwd: REPO, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  server = createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  openPort = (server.address() as { port: number }).port;
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  closedPort = (probe.address() as { port: number }).port;
  probe.close();
});

afterAll(() => {
  server.close();
});

async function scan(extra: string[], prefix: string[] = []) {
  const args = ['scan', '127.0.0.1', '--ports', `${openPort},${closedPort}`, '--udp', 'none', '--no-progress', '--format', 'json', ...extra];
  const { code, stdout, stderr } = await runCli(args, prefix);
  expect(code).toBe(0);
  const result = JSON.parse(stdout) as ScanResult;
  const reasons = [openPort, closedPort].map((port) => {
    const observation = result.hosts[0]!.observations.find((candidate) => candidate.port === port);
    return observation ? `${observation.state}/${observation.reason}` : `folded:${result.hosts[0]!.folded.map((fold) => `${fold.state}/${fold.reason}`).join(',')}`;
  });
  return { result, reasons, stderr };
}

describe('TCP scan type', () => {
  itNeeding('as root: SYN by default (reset for a closed port), --connect on request; the type is in the result', { root: true, synProber: true, nativeProber: true }, async () => {
    const syn = await scan([]);
    expect(syn.stderr).toBe('');
    expect(syn.result.parameters).toMatchObject({ scanType: 'syn', prober: 'raw-syn' });
    expect(syn.reasons).toEqual(['open/syn-ack', 'folded:closed/reset']);
    const connect = await scan(['--connect']);
    expect(connect.result.parameters).toMatchObject({ scanType: 'connect' });
    expect(connect.reasons).toEqual(['open/syn-ack', 'folded:closed/conn-refused']);
    const xml = await runCli(['scan', '127.0.0.1', '--ports', String(openPort), '--udp', 'none', '--no-progress', '--format', 'nmap-xml']);
    expect(xml.stdout).toContain('<scaninfo type="syn" protocol="tcp"');
  });

  itNeeding('without CAP_NET_RAW: connect by default without a word; --syn says why in one line', { root: true, tools: ['setpriv'], nativeProber: true }, async () => {
    // Root without CAP_NET_RAW in its bounding set: raw sockets are refused, everything else is as before.
    const withoutRaw = ['setpriv', '--bounding-set', '-net_raw'];
    const quiet = await scan([], withoutRaw);
    expect(quiet.stderr).toBe('');
    expect(quiet.result.parameters).toMatchObject({ scanType: 'connect' });
    const asked = await scan(['--syn'], withoutRaw);
    expect(asked.stderr.trim().split('\n')).toEqual(['portmatrix: note: --syn: SYN scan not available (raw sockets need root or CAP_NET_RAW); scanning with connect instead']);
    expect(asked.result.parameters).toMatchObject({ scanType: 'connect' });
    expect(asked.reasons).toEqual(['open/syn-ack', 'folded:closed/conn-refused']);
  });
});
