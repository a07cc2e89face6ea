/**
 * Non-blocking TCP connects to one address, addressed by slot number. Two backends with one
 * interface: the project's native addon (socket + connect + epoll on native threads, commands
 * and outcomes in batches; a probe costs a few syscalls and no JavaScript object) and net.Socket
 * when the addon did not build.
 * Outcomes arrive through `onOutcome`, immediate ones included; `onBatchEnd` follows each batch.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { availableParallelism, constants } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../version.js';
import { createNativeBatchProber } from './native-batch.js';
import type { ConnectProber, ProbeOutcomeHandler, ProberKind } from './prober.js';

export type { ConnectProber, ProbeOutcomeHandler, ProberKind } from './prober.js';

interface NativeBinding {
  createProber(
    address: string,
    family: number,
    slots: number,
    workers: number,
    results: Int32Array,
    commands: Int32Array,
    onResults: (count: number) => void,
    sentAt: Float64Array,
    sentTickets: Int32Array,
    nowMs: number,
  ): unknown;
  submit(prober: unknown, count: number): void;
  drain(prober: unknown): void;
  destroy(prober: unknown): void;
}

/**
 * Native probe threads: the kernel work of a connect (the SYN out, the target's answer in) runs
 * in the connecting thread, so two threads use both cores of a small box; more than two only
 * contend with the JavaScript thread that keeps the books.
 */
const MAX_PROBE_THREADS = 2;

const ERRNO_NAMES: Map<number, string> = new Map(
  Object.entries(constants.errno).map(([name, value]) => [value, name] as [number, string]),
);

export function errnoName(code: number): string {
  return ERRNO_NAMES.get(code) ?? `ERRNO_${code}`;
}

const ADDON = join(PACKAGE_ROOT, 'build', 'Release', 'connect_prober.node');
let nativeBinding: NativeBinding | null | undefined;
let nativeProblem: string | undefined;

/** Loads the addon once; null when it was not built, did not load, or PORTMATRIX_PROBER=net-socket asks for the fallback. */
export function loadNativeBinding(): NativeBinding | null {
  if (nativeBinding !== undefined) return nativeBinding;
  nativeBinding = null;
  if (process.platform !== 'linux') nativeProblem = 'the native connect prober is built on Linux only';
  else if (process.env.PORTMATRIX_PROBER === 'net-socket') nativeProblem = undefined;
  else if (!existsSync(ADDON)) nativeProblem = 'the native connect prober was not built at npm install (it needs g++, make and python3; then npm rebuild)';
  else {
    try {
      nativeBinding = createRequire(import.meta.url)(ADDON) as NativeBinding;
    } catch (error) {
      nativeProblem = `the native connect prober did not load (${(error as Error).message.split('\n')[0] ?? ''}; npm rebuild rebuilds it for this Node.js)`;
    }
  }
  return nativeBinding;
}

/** Why a connect scan would use net.Socket instead of the native prober; undefined when it would not. */
export function nativeProberProblem(): string | undefined {
  loadNativeBinding();
  return nativeProblem;
}

function outcomeName(code: number): string {
  if (code === 0) return 'connected';
  if (code === -1) return 'self-connect';
  return errnoName(code);
}

function createNativeProber(
  binding: NativeBinding,
  options: { address: string; family: 4 | 6; slots: number },
  handler: ProbeOutcomeHandler,
): ConnectProber {
  const workers = Math.max(1, Math.min(MAX_PROBE_THREADS, availableParallelism()));
  return createNativeBatchProber(
    {
      kind: 'native',
      slots: options.slots,
      outcomeName,
      open({ results, commands, sentAt, sentTickets }, onResults) {
        const prober = binding.createProber(options.address, options.family, options.slots, workers, results, commands, onResults, sentAt, sentTickets, performance.now());
        return {
          submit: (count) => binding.submit(prober, count),
          drain: () => binding.drain(prober),
          destroy: () => binding.destroy(prober),
        };
      },
    },
    handler,
  );
}

function createSocketProber(options: { address: string; family: 4 | 6; slots: number }, handler: ProbeOutcomeHandler): ConnectProber {
  const sockets: (Socket | undefined)[] = new Array(options.slots);
  const startedAt = new Float64Array(options.slots);
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
      startedAt[slot] = started;
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
    flush() {
      // net.Socket connects start at once.
    },
    drain() {
      // net.Socket events only arrive through the event loop.
    },
    sentAt: (slot) => startedAt[slot],
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
