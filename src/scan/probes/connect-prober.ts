/**
 * Non-blocking TCP connects to one address, addressed by slot number. Two backends with one
 * interface: the project's native addon (socket + connect + epoll watched by libuv; a probe
 * costs a few syscalls and no JavaScript object) and net.Socket when the addon did not build.
 * Outcomes arrive through `onOutcome`, immediate ones included; `onBatchEnd` follows each batch.
 */
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../version.js';

export type ProberKind = 'native' | 'net-socket';

export interface ProbeOutcomeHandler {
  /** outcome: 'connected', 'self-connect' or an errno name; icmpType/icmpCode -1 when unknown. */
  onOutcome(slot: number, outcome: string, rttMs: number, icmpType: number, icmpCode: number): void;
  onBatchEnd(): void;
}

export interface ConnectProber {
  readonly kind: ProberKind;
  connect(slot: number, port: number): void;
  abort(slot: number): void;
  /** Delivers outcomes that are ready now, so a timeout is never judged on an unread answer. */
  drain(): void;
  close(): void;
}

interface NativeBinding {
  createProber(address: string, family: number, slots: number, results: Int32Array, onResults: (count: number) => void): unknown;
  connect(prober: unknown, slot: number, port: number): number;
  abort(prober: unknown, slot: number): void;
  drain(prober: unknown): void;
  destroy(prober: unknown): void;
}

const RECORD_INTS = 5;
const RESULT_RECORDS = 4096;

const ERRNO_NAMES: Map<number, string> = new Map(
  Object.entries(constants.errno).map(([name, value]) => [value, name] as [number, string]),
);

function errnoName(code: number): string {
  return ERRNO_NAMES.get(code) ?? `ERRNO_${code}`;
}

let nativeBinding: NativeBinding | null | undefined;

/** Loads the addon once; null when it was not built (or PORTMATRIX_PROBER=net-socket asks for the fallback). */
export function loadNativeBinding(): NativeBinding | null {
  if (nativeBinding !== undefined) return nativeBinding;
  nativeBinding = null;
  if (process.platform === 'linux' && process.env.PORTMATRIX_PROBER !== 'net-socket') {
    try {
      const require = createRequire(import.meta.url);
      nativeBinding = require(join(PACKAGE_ROOT, 'build', 'Release', 'connect_prober.node')) as NativeBinding;
    } catch {
      nativeBinding = null;
    }
  }
  return nativeBinding;
}

function outcomeName(code: number): string {
  if (code === 0 || code === -2) return 'connected';
  if (code === -1) return 'self-connect';
  return errnoName(code);
}

function createNativeProber(
  binding: NativeBinding,
  options: { address: string; family: 4 | 6; slots: number },
  handler: ProbeOutcomeHandler,
): ConnectProber {
  const results = new Int32Array(RESULT_RECORDS * RECORD_INTS);
  const onResults = (count: number): void => {
    for (let index = 0; index < count; index++) {
      const base = index * RECORD_INTS;
      handler.onOutcome(
        results[base] ?? 0,
        outcomeName(results[base + 1] ?? 0),
        (results[base + 2] ?? 0) / 1000,
        results[base + 3] ?? -1,
        results[base + 4] ?? -1,
      );
    }
    handler.onBatchEnd();
  };
  const handle = binding.createProber(options.address, options.family, options.slots, results, onResults);
  return {
    kind: 'native',
    connect(slot, port) {
      const started = performance.now();
      const code = binding.connect(handle, slot, port);
      if (code !== 0) handler.onOutcome(slot, outcomeName(code), performance.now() - started, -1, -1);
    },
    abort: (slot) => binding.abort(handle, slot),
    drain: () => binding.drain(handle),
    close: () => binding.destroy(handle),
  };
}

function createSocketProber(options: { address: string; family: 4 | 6; slots: number }, handler: ProbeOutcomeHandler): ConnectProber {
  const sockets: (Socket | undefined)[] = new Array(options.slots);
  let batchScheduled = false;
  const endBatchSoon = (): void => {
    if (batchScheduled) return;
    batchScheduled = true;
    setImmediate(() => {
      batchScheduled = false;
      handler.onBatchEnd();
    });
  };
  const finish = (slot: number, socket: Socket, outcome: string, started: number): void => {
    if (sockets[slot] !== socket) return;
    sockets[slot] = undefined;
    socket.destroy();
    handler.onOutcome(slot, outcome, performance.now() - started, -1, -1);
    endBatchSoon();
  };
  return {
    kind: 'net-socket',
    connect(slot, port) {
      const started = performance.now();
      const socket = new Socket();
      sockets[slot] = socket;
      socket.once('connect', () => {
        const self = socket.localPort === port && socket.localAddress === options.address;
        // Abortive close: no FIN exchange with the service, no TIME_WAIT left behind.
        socket.resetAndDestroy();
        finish(slot, socket, self ? 'self-connect' : 'connected', started);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => finish(slot, socket, error.code ?? 'EIO', started));
      socket.connect({ port, host: options.address, family: options.family });
    },
    abort(slot) {
      const socket = sockets[slot];
      sockets[slot] = undefined;
      socket?.destroy();
    },
    drain() {
      // net.Socket events only arrive through the event loop.
    },
    close() {
      for (let slot = 0; slot < sockets.length; slot++) this.abort(slot);
    },
  };
}

export function createConnectProber(
  options: { address: string; family: 4 | 6; slots: number; prefer?: ProberKind },
  handler: ProbeOutcomeHandler,
): ConnectProber {
  const binding = options.prefer === 'net-socket' ? null : loadNativeBinding();
  return binding ? createNativeProber(binding, options, handler) : createSocketProber(options, handler);
}

export function availableProberKind(): ProberKind {
  return loadNativeBinding() ? 'native' : 'net-socket';
}
