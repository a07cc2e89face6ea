/**
 * scanUdp on loopback: real sockets, no namespace. Loopback is exempt from the ICMP rate limit,
 * so here every closed port answers at once; the namespace tests cover the limited case.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILES } from '../../src/defaults.js';
import type { Observation } from '../../src/model/port-state.js';
import { udpPortHints } from '../../src/matrix/documented-ports.js';
import { scanUdp } from '../../src/scan/probes/udp.js';
import { planUdpProbes } from '../../src/scan/udp-plan.js';

const CAPS = { ...PROFILES.gentle, initialRttTimeoutMs: 300, maxRttTimeoutMs: 600 };
let responder: dgram.Socket;
let silent: dgram.Socket;
let responderPort = 0;
let silentPort = 0;
let silentProbes = 0;
const received: Buffer[] = [];

async function bound(onMessage: (message: Buffer, remote: dgram.RemoteInfo, socket: dgram.Socket) => void): Promise<[dgram.Socket, number]> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, remote) => onMessage(message, remote, socket));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return [socket, socket.address().port];
}

beforeAll(async () => {
  [responder, responderPort] = await bound((message, remote, socket) => {
    received.push(message);
    socket.send(Buffer.from('SIP/2.0 200 OK\r\nServer: test-pbx 1.0\r\n\r\n'), remote.port, remote.address);
  });
  // Bound but never answering: a listener that ignores probes looks like a filtered port.
  [silent, silentPort] = await bound(() => {
    silentProbes += 1;
  });
});

afterAll(() => {
  responder.close();
  silent.close();
});

describe('scanUdp on loopback', () => {
  it('reply -> open with the decoded banner; ICMP port unreachable -> closed; silence -> open|filtered after retries', async () => {
    const closedPorts = [9, 19, 7, 13];
    const observations: Observation[] = [];
    const result = await scanUdp({
      address: '127.0.0.1', family: 4, plan: planUdpProbes([responderPort, silentPort, ...closedPorts], udpPortHints([{ transport: 'udp', start: responderPort, end: responderPort, dynamic: false, state: 'open', optional: false, internal: false, protocol: 'UDP/SIP', component: 'c', description: '', ref: { matrix: 'm', document: 'd', rowId: 'r', table: 't', row: '1' } }], [responderPort])), caps: CAPS, snmpCommunity: 'public',
      onObservation: (observation) => observations.push(observation),
    });
    const byPort = new Map(result.map((observation) => [observation.port, observation]));
    expect(byPort.get(responderPort)).toMatchObject({ state: 'open', reason: 'udp-response', service: 'sip', banner: 'SIP/2.0 200 OK; test-pbx 1.0', attempts: 1 });
    expect(received.at(-1)?.toString()).toMatch(/^OPTIONS sip:127\.0\.0\.1:\d+ SIP\/2\.0\r\n/);
    for (const port of closedPorts) expect(byPort.get(port)).toMatchObject({ state: 'closed', reason: 'icmp-port-unreach' });
    expect(byPort.get(silentPort)).toMatchObject({ state: 'open|filtered', reason: 'no-response', rttMs: null });
    expect(byPort.get(silentPort)?.attempts).toBeGreaterThanOrEqual(2);
    // Says why it stayed open|filtered: the probe it got, how many, and whether they were spaced for the ICMP limit.
    expect(byPort.get(silentPort)?.detail).toMatch(new RegExp(`^no reply to an empty datagram after ${byPort.get(silentPort)?.attempts} probes( spaced for the target's ICMP rate limit)?$`));
    expect(byPort.get(responderPort)?.detail).toBeUndefined();
    expect(result.map((observation) => observation.port)).toEqual([...byPort.keys()].sort((a, b) => a - b));
    expect(observations).toHaveLength(result.length);
  });

  it('stops when aborted and returns only what it decided', async () => {
    // A probe timeout far beyond the abort: a scan that waited for it, or sent a retry, would lose
    // the race below. Timers fire in the order they are due however loaded the machine is, so this
    // asserts an order of events, not a wall-clock time.
    const probeTimeoutMs = 5_000;
    const caps = { ...CAPS, initialRttTimeoutMs: probeTimeoutMs, maxRttTimeoutMs: 2 * probeTimeoutMs };
    const probesBefore = silentProbes;
    const controller = new AbortController();
    const pending = scanUdp({ address: '127.0.0.1', family: 4, plan: planUdpProbes([silentPort]), caps, snmpCommunity: 'public', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const timedOut = new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), probeTimeoutMs).unref());
    expect(await Promise.race([pending, timedOut])).toEqual([]);
    expect(silentProbes - probesBefore).toBeLessThanOrEqual(1);
  });
});
