/**
 * The library API as the README shows it: load a matrix, select, scan real loopback sockets,
 * check conformance. Through src/index.ts only, so the public surface is what is tested.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkConformance,
  EXIT_INTERRUPTED,
  loadMatrix,
  PROFILES,
  resolveTargets,
  run,
  scanHosts,
  selectExpectations,
  type Matrix,
  type MatrixInput,
} from '../../src/index.js';
import { parseMatrixText } from '../../src/matrix/parse.js';
import { stringify } from 'yaml';

function listen(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('library API', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });
  beforeAll(async () => {
    servers.push(await listen(), await listen());
  });

  it('loads a built-in matrix and selects its expected listeners', async () => {
    const { matrix, builtin } = await loadMatrix('ip-office-9.1');
    expect(builtin).toBe(true);
    const { expectations, selection } = selectExpectations(matrix, { components: ['ip-office'], platform: 'ip500v2' });
    expect(selection.components).toEqual(['ip-office']);
    const ssh = expectations.find((expectation) => expectation.transport === 'tcp' && expectation.start === 22);
    expect(ssh?.state).toBe('open');
    expect(ssh?.ref.rowId).toBe('ip-office-in-1');
  });

  /** Two ports with listeners (one documented, one extra) and a documented free one (missing), and a matrix of its own. */
  async function loopbackScenario(): Promise<{ documented: number; extra: number; missing: number; matrix: Matrix }> {
    const [documented, extra] = servers.map(portOf) as [number, number];
    // A free port: listen, read the port back, close; nothing listens there during the scan.
    const probe = await listen();
    const missing = portOf(probe);
    await new Promise((resolve) => probe.close(resolve));

    const input: MatrixInput = {
      schemaVersion: 1,
      id: 'loopback-test',
      product: 'Loopback',
      version: '1',
      document: { title: 'Loopback test matrix' },
      platforms: [{ id: 'linux', name: 'Linux' }],
      components: [{ id: 'core', name: 'Core', platforms: ['linux'], default: true }],
      rows: [documented, missing].map((port, index) => ({
        id: `core-${index + 1}`,
        component: 'core',
        direction: 'ingress',
        transports: ['tcp'],
        ports: String(port),
        state: 'open',
        optional: false,
        protocol: 'TCP',
        ref: { table: 'Table 1', row: String(index + 1) },
      })),
    };
    return { documented, extra, missing, matrix: parseMatrixText(stringify(input), 'loopback-test.yaml') };
  }

  it('scans loopback and reports a missing and an extra listener against a matrix of its own', async () => {
    const { documented, extra, missing, matrix } = await loopbackScenario();
    const { expectations } = selectExpectations(matrix, {});
    const targets = await resolveTargets(['127.0.0.1'], { maxHosts: 1 });
    const ports = [documented, missing, extra].map((port) => ({ start: port, end: port }));
    const { hosts, complete } = await scanHosts({ targets, plan: { tcp: ports, udp: [] }, caps: PROFILES.fast });
    expect(complete).toBe(true);

    const deviations = checkConformance({ expectations, hosts })
      .filter((finding) => finding.kind !== 'conformant')
      .map((finding) => [finding.kind, finding.port, finding.severity, finding.ref?.rowId ?? null]);
    expect(deviations.sort()).toEqual(
      [
        ['extra-listener', extra, 'error', null],
        ['missing-listener', missing, 'error', 'core-2'],
      ].sort(),
    );
  });

  it('run(): the whole pipeline as the README shows it, with the exit code decided inside', async () => {
    const { documented, extra, missing, matrix } = await loopbackScenario();
    const ports = [documented, missing, extra].map((port) => ({ start: port, end: port }));
    const { result, hosts, exitCode } = await run({
      targets: ['127.0.0.1'],
      ports,
      udp: 'none',
      profile: 'fast',
      scanMode: 'connect',
      conformance: { matrix: { matrix, path: 'loopback-test.yaml', builtin: false }, failOn: 'error' },
    });
    expect(result.complete).toBe(true);
    expect(hosts).toEqual([{ target: '127.0.0.1', address: '127.0.0.1', status: 'up' }]);
    expect(result.parameters).toMatchObject({ command: 'scan', profile: 'fast', udp: '', udpScanned: false, scanType: 'connect' });
    const deviations = result.conformance!.findings.filter((finding) => finding.kind !== 'conformant').map((finding) => [finding.kind, finding.port]);
    expect(deviations.sort()).toEqual([['extra-listener', extra], ['missing-listener', missing]].sort());
    expect(exitCode).toBe(1);

    // The same run at --fail-on never is conformant; an aborted one returns what it has, marked incomplete, with exit 130.
    expect((await run({ targets: ['127.0.0.1'], ports, udp: 'none', profile: 'fast', conformance: { matrix: { matrix, path: 'x', builtin: false }, failOn: 'never' } })).exitCode).toBe(0);
    const aborted = await run({ targets: ['127.0.0.1'], ports, udp: 'none', profile: 'fast' }, { signal: AbortSignal.abort('SIGTERM') });
    expect(aborted.result).toMatchObject({ complete: false, incompleteReason: 'interrupted by SIGTERM' });
    expect(aborted.exitCode).toBe(143);
    expect((await run({ targets: ['127.0.0.1'], ports, udp: 'none' }, { signal: AbortSignal.abort() })).exitCode).toBe(EXIT_INTERRUPTED);
  });

  it('run() rejects bad input before any packet is sent', async () => {
    await expect(run({ targets: ['999.1.1.1'], ports: 'all', udp: 'none' })).rejects.toMatchObject({ code: 'E_TARGET', exitCode: 2 });
    await expect(run({ targets: ['127.0.0.1'], ports: 'matrix', udp: 'none' })).rejects.toThrow('--ports matrix: no matrix selected, so no documented ports');
    await expect(run({ targets: ['127.0.0.1'], ports: 'none', udp: 'none' })).rejects.toThrow('nothing to scan');
  });
});
