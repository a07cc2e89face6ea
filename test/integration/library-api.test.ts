/**
 * The library API as the README shows it: load a matrix, select, scan real loopback sockets,
 * check conformance. Through src/index.ts only, so the public surface is what is tested.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkConformance,
  loadMatrix,
  PROFILES,
  resolveTargets,
  scanHosts,
  selectExpectations,
  type MatrixInput,
} from '../../src/index.js';
import { parseMatrixText } from '../../src/matrix/load.js';
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

  it('scans loopback and reports a missing and an extra listener against a matrix of its own', async () => {
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
    const matrix = parseMatrixText(stringify(input), 'loopback-test.yaml');
    const { expectations } = selectExpectations(matrix, {});
    const targets = await resolveTargets(['127.0.0.1'], { maxHosts: 1 });
    const ports = [documented, missing, extra].map((port) => ({ start: port, end: port }));
    const { hosts, complete } = await scanHosts({ targets, tcpPorts: ports, udpPorts: [], caps: PROFILES.fast, expectations });
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
});
