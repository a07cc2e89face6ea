/**
 * The send watchdog of the TCP engine, with the real native prober on 127.0.0.1 and one fault
 * injected between the engine and the prober: a probe that is never handed to the prober (a
 * wedged worker) or a prober that never reports when it sent (an addon built from older source).
 * The engine must take such probes back and either decide the port on a later attempt or end
 * with an error naming the port, never wait forever (vitest's timeout is the hang detector).
 * Also the engine's other loose end: a scan removes the abort listener it adds to the caller's
 * signal when it ends, so a signal shared by many scans does not keep every finished scan.
 */
import { getEventListeners, once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROFILES } from '../../src/defaults.js';
import { createConnectProber, type ConnectProber, type ProbeOutcomeHandler } from '../../src/scan/probes/connect-prober.js';
import { scanTcp, type TcpScanOptions } from '../../src/scan/probes/tcp.js';
import { describeNeeding } from '../helpers/requirements.js';

let server: Server;
let listening = 0;

beforeAll(async () => {
  server = createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  listening = (server.address() as { port: number }).port;
});

afterAll(() => {
  server?.close();
});

/** The native prober, except that connects to `port` are dropped the first `times` times (never sent). */
function droppingProber(port: number, times: number): (handler: ProbeOutcomeHandler) => ConnectProber {
  return (handler) => {
    const real = createConnectProber({ address: '127.0.0.1', family: 4, slots: 64, prefer: 'native' }, handler);
    let dropped = 0;
    const swallowed = new Set<number>();
    return {
      ...real,
      connect(slot, target) {
        if (target === port && dropped < times) {
          dropped++;
          swallowed.add(slot);
          return;
        }
        swallowed.delete(slot);
        real.connect(slot, target);
      },
      // A probe never handed over has never been sent.
      sentAt: (slot) => (swallowed.has(slot) ? undefined : real.sentAt(slot)),
    };
  };
}

function scanOptions(ports: number[], openProber: TcpScanOptions['openProber']): TcpScanOptions {
  return {
    address: '127.0.0.1',
    family: 4,
    ports: ports.map((port) => ({ start: port, end: port })),
    caps: { ...PROFILES.fast, initialRttTimeoutMs: 100, maxRttTimeoutMs: 100 },
    maxInFlight: 64,
    seed: 1,
    sendWatchdogMs: 200,
    ...(openProber ? { openProber } : {}),
  };
}

describeNeeding('TCP engine send watchdog (native prober, loopback)', { nativeProber: true }, () => {
  it('a probe that was never sent is taken back and sent again: the port gets its true state', async () => {
    const { observations, complete, stats } = await scanTcp(scanOptions([listening], droppingProber(listening, 2)));
    expect(complete).toBe(true);
    expect(observations).toMatchObject([{ port: listening, state: 'open' }]);
    expect(stats.unsentProbes).toBe(2);
    // Taken-back probes are not attempts: the port was answered on its first real one.
    expect(observations[0]!.attempts).toBe(1);
  });

  it('a port whose probe never goes out ends the scan with one error naming it, not a hang', async () => {
    const scan = scanTcp(scanOptions([listening, 1], droppingProber(listening, Infinity)));
    await expect(scan).rejects.toMatchObject({
      code: 'E_SCAN',
      message: `tcp/${listening} on 127.0.0.1: the native prober did not send the probe (3 times, 0.2 s each)`,
    });
  });

  it('a prober that never reports its send times (a stale addon) still ends: answered ports decided, then the error', async () => {
    const stale = (handler: ProbeOutcomeHandler): ConnectProber => ({
      ...createConnectProber({ address: '127.0.0.1', family: 4, slots: 64, prefer: 'native' }, handler),
      sentAt: () => undefined,
    });
    // Loopback answers every port at once, so nothing waits on the watchdog...
    const answered = await scanTcp(scanOptions([listening, 1], stale));
    expect(answered.observations.map(({ port, state }) => `${port} ${state}`).sort()).toEqual([`1 closed`, `${listening} open`].sort());
    // ...but a port that stays silent would wait for ever without it.
    const silent = (handler: ProbeOutcomeHandler): ConnectProber => {
      const real = stale(handler);
      return { ...real, connect: (slot, port) => (port === 1 ? undefined : real.connect(slot, port)) };
    };
    await expect(scanTcp(scanOptions([listening, 1], silent))).rejects.toMatchObject({ code: 'E_SCAN', message: /^tcp\/1 on 127\.0\.0\.1: the native prober did not send/ });
  });
});

it('five scans on one signal leave no abort listener behind, and each still sees the listener open', async () => {
  const controller = new AbortController();
  for (let run = 0; run < 5; run++) {
    const { observations, complete } = await scanTcp({ ...scanOptions([listening], undefined), signal: controller.signal });
    expect(complete).toBe(true);
    expect(observations.find((observation) => observation.port === listening)?.state).toBe('open');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  }
});
