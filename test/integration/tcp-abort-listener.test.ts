/**
 * A TCP scan removes the abort listener it adds to the caller's signal when it ends: a signal shared
 * by many scans (an audit, a library user's long-lived controller) does not pile up listeners that
 * each hold a finished scan's state. Real listener on 127.0.0.1.
 */
import { getEventListeners, once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROFILES } from '../../src/defaults.js';
import { scanTcp } from '../../src/scan/probes/tcp.js';

let server: Server;
let listening: number;

beforeAll(async () => {
  server = createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  listening = (server.address() as { port: number }).port;
});

afterAll(() => {
  server?.close();
});

it('five scans on one signal leave no abort listener behind, and each still sees the listener open', async () => {
  const controller = new AbortController();
  for (let run = 0; run < 5; run++) {
    const { observations, complete } = await scanTcp({
      address: '127.0.0.1',
      family: 4,
      ports: [{ start: listening, end: listening }],
      caps: PROFILES.fast,
      maxInFlight: 8,
      signal: controller.signal,
    });
    expect(complete).toBe(true);
    expect(observations.find((observation) => observation.port === listening)?.state).toBe('open');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  }
});
