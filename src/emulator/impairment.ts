/**
 * Path impairment for test hosts: loss, delay and jitter on the veth between the scanner and
 * the namespace, on kernels without sch_netem and without the nftables `queue` expression.
 *
 * - Loss: nftables `numgen random` drop rules inside the namespace, on both directions, each
 *   with probability 1 - sqrt(1 - p) so that a round trip (probe and answer) is lost with
 *   probability p = lossPercent / 100, which is what a scanner sees. Counters on the rules tell
 *   how many packets they saw and dropped: loss is verified on those kernel counts, which no
 *   load on the measuring side can move (a probe timed out by a starved event loop could).
 * - Delay and jitter: an iptables-legacy NFQUEUE rule on the namespace's ingress and the
 *   nfq-delayer helper (src/emulator/delayer/nfq-delayer.c) that holds each arriving packet for
 *   delay +- jitter (uniform, like netem's default) before accepting it. The whole delay sits on
 *   one direction, so the round-trip time grows by delayMs. Ingress, not egress: an answer the
 *   target's kernel generates (RST, ICMP) is charged to a small per-CPU control socket, and
 *   holding tens of thousands of them exhausts its send buffer, so the kernel silently stops
 *   answering; an arriving packet belongs to no local socket and can be held at no cost.
 *
 * impairPath() measures the path before it returns (TCP connects to a port that answers, open
 * or closed) and throws when the measured RTT or loss does not match what was asked. The machines
 * that run the tests are shared and noisy, and load on the measuring side only ever adds latency:
 * so every measurement probes a reference (a listener of our own on 127.0.0.1) in the same rounds,
 * judges the delay by the minimum and the median against that reference, and takes its
 * tolerances from the reference's measured spread. A path whose delay is really missing still
 * fails: its fastest round trips cannot be slower than the reference's by delay - jitter.
 */
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import type { TestHost } from './netns.js';
import { ensureNativeTool } from './native-tool.js';

export interface Impairment {
  /** Added round-trip time. */
  delayMs?: number;
  /** Uniform spread of the added delay: delayMs +- jitterMs. */
  jitterMs?: number;
  /** Share of round trips lost, in percent (split over both directions). */
  lossPercent?: number;
}

export interface PathMeasurement {
  probes: number;
  answered: number;
  lossPercent: number;
  rttMeanMs: number;
  rttStdDevMs: number;
  rttMinMs: number;
  rttMaxMs: number;
  rttP25Ms: number;
  rttP50Ms: number;
  rttP75Ms: number;
}

export interface PathComparison {
  /** The path to the test host. */
  path: PathMeasurement;
  /** A listener of our own on 127.0.0.1, probed in the same rounds: what the measuring side alone adds. */
  reference: PathMeasurement;
}

export interface MeasurePathOptions {
  /** TCP port that answers (a listener or a closed port: SYN-ACK and RST both count). Default 9 (discard, closed). */
  port?: number;
  probes?: number;
  concurrency?: number;
  /** A probe with no answer by then is lost. Must stay under the kernel's 1 s SYN retransmit. */
  probeTimeoutMs?: number;
}

export interface ImpairPathOptions {
  /** Port used for the verification measurement (see MeasurePathOptions.port). */
  measurePort?: number;
  /** Probes for the verification measurement; more give a tighter loss estimate. */
  measureProbes?: number;
}

export interface ImpairedPath {
  impairment: Required<Impairment>;
  /** What the verification measured. */
  measurement: PathMeasurement;
  /** Removes the rules and stops the delayer. destroy() of the host does it too. */
  clear(): Promise<void>;
}

const QUEUE_NUMBER = 7;
const LOSS_TABLE = 'portmatrix_impair';
const LOSS_SCALE = 1_000_000;
const MEASURE_ATTEMPTS = 2;

function probeOnce(address: string, port: number, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const socket = net.connect({ host: address, port });
    let done = false;
    const finish = (answered: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answered ? Number(process.hrtime.bigint() - started) / 1e6 : null);
    };
    // On a loaded machine the timer can fire in the same loop turn as an answer that is already
    // waiting: give the I/O phase one turn before calling the probe lost.
    const timer = setTimeout(() => setImmediate(() => finish(false)), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(error.code === 'ECONNREFUSED'));
  });
}

interface ProbeTarget {
  address: string;
  port: number;
}

function summarize(probes: number, rtts: number[]): PathMeasurement {
  rtts.sort((a, b) => a - b);
  const answered = rtts.length;
  const mean = answered ? rtts.reduce((sum, value) => sum + value, 0) / answered : Number.NaN;
  const variance = answered > 1 ? rtts.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (answered - 1) : 0;
  const quantile = (q: number): number => rtts[Math.floor((answered - 1) * q)] ?? Number.NaN;
  return {
    probes,
    answered,
    lossPercent: ((probes - answered) / probes) * 100,
    rttMeanMs: mean,
    rttStdDevMs: Math.sqrt(variance),
    rttMinMs: rtts[0] ?? Number.NaN,
    rttMaxMs: rtts[answered - 1] ?? Number.NaN,
    rttP25Ms: quantile(0.25),
    rttP50Ms: quantile(0.5),
    rttP75Ms: quantile(0.75),
  };
}

/** Probes every target once per round, in the same instant, so that they share the machine's load. */
async function sampleTargets(targets: readonly ProbeTarget[], options: MeasurePathOptions): Promise<PathMeasurement[]> {
  const probes = options.probes ?? 400;
  const concurrency = options.concurrency ?? 50;
  const timeoutMs = options.probeTimeoutMs ?? 900;
  const rtts: number[][] = targets.map(() => []);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < probes) {
      next += 1;
      const round = await Promise.all(targets.map((target) => probeOnce(target.address, target.port, timeoutMs)));
      round.forEach((rtt, index) => {
        if (rtt !== null) rtts[index]?.push(rtt);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, probes) }, worker));
  return rtts.map((samples) => summarize(probes, samples));
}

/** Measures round-trip time and loss to a test host with TCP connects (an RST or a SYN-ACK is an answer). */
export async function measurePath(host: Pick<TestHost, 'address'>, options: MeasurePathOptions = {}): Promise<PathMeasurement> {
  const [path] = await sampleTargets([{ address: host.address, port: options.port ?? 9 }], options);
  if (!path) throw new Error('measurePath: no measurement');
  return path;
}

/** Measures the path to a test host and, in the same rounds, a loopback reference (see the file comment). */
export async function measurePathBeside(host: Pick<TestHost, 'address'>, options: MeasurePathOptions = {}): Promise<PathComparison> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  try {
    const { port } = server.address() as net.AddressInfo;
    const [path, reference] = await sampleTargets([{ address: host.address, port: options.port ?? 9 }, { address: '127.0.0.1', port }], options);
    if (!path || !reference) throw new Error('measurePathBeside: no measurement');
    return { path, reference };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Drop probability on each direction, so that a round trip is lost with lossPercent. */
function perDirectionLoss(lossPercent: number): number {
  return 1 - Math.sqrt(1 - lossPercent / 100);
}

function lossRuleset(host: TestHost, lossPercent: number): string {
  const threshold = Math.round(perDirectionLoss(lossPercent) * LOSS_SCALE);
  // Two counters per direction: every packet on the link, and the ones dropped.
  return `
    table inet ${LOSS_TABLE} {
      chain ingress {
        type filter hook prerouting priority -300; policy accept;
        iifname "${host.targetLink}" counter numgen random mod ${LOSS_SCALE} < ${threshold} counter drop
      }
      chain egress {
        type filter hook postrouting priority -300; policy accept;
        oifname "${host.targetLink}" counter numgen random mod ${LOSS_SCALE} < ${threshold} counter drop
      }
    }
  `;
}

export interface LossCount {
  /** Packets that reached the loss rules, both directions. */
  seen: number;
  dropped: number;
}

/**
 * What the loss rules have seen and dropped so far, from the kernel's own counters: a count of
 * packets, not of probes that timed out, so load on the measuring side cannot move it.
 * Zero and zero when no loss is applied.
 */
export async function readLossCounters(host: Pick<TestHost, 'exec'>): Promise<LossCount> {
  const listed = await host.exec(['nft', '-j', 'list', 'table', 'inet', LOSS_TABLE], { allowFailure: true });
  const count: LossCount = { seen: 0, dropped: 0 };
  if (listed.exitCode !== 0) return count;
  const items = (JSON.parse(listed.stdout) as { nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[] }).nftables;
  for (const item of items) {
    const counters = (item.rule?.expr ?? []).flatMap((expr) => (expr.counter ? [expr.counter.packets] : []));
    count.seen += counters[0] ?? 0;
    count.dropped += counters[1] ?? 0;
  }
  return count;
}

function waitForReady(child: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms: ${stderr.trim()}`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with code ${String(code)}: ${stderr.trim()}`));
    });
  });
}

/**
 * Checks a measurement against the requested impairment; returns what is off, or null.
 * Delay d +- j is uniform on [d - j, d + j] on top of the path's own round trip, and load only
 * ever adds to a round trip. So: the fastest round trip is at least d - j slower than the
 * reference's fastest (load cannot fake that, and a missing delay cannot pass it); the median is
 * d slower, and the interquartile range is j wide, within tolerances that grow with the spread
 * the reference shows in the same rounds (the measuring side's noise). Loss is checked by
 * checkLoss, on the kernel's counters.
 */
export function checkMeasurement(impairment: Pick<Impairment, 'delayMs' | 'jitterMs'>, measured: PathComparison): string | null {
  const { path, reference } = measured;
  const { delayMs = 0, jitterMs = 0 } = impairment;
  const noiseMs = reference.rttP75Ms - reference.rttP25Ms;
  const tolerance = Math.max(2, delayMs * 0.15) + 2 * noiseMs;
  const fastestAdded = path.rttMinMs - reference.rttMinMs;
  const floor = delayMs - jitterMs - Math.max(1, delayMs * 0.1);
  if (delayMs > 0 && !(fastestAdded >= floor)) {
    return `fastest round trip only ${fastestAdded.toFixed(2)} ms slower than the reference's, expected at least ${floor.toFixed(2)} ms`;
  }
  const medianAdded = path.rttP50Ms - reference.rttP50Ms;
  if (!(Math.abs(medianAdded - delayMs) <= tolerance)) {
    return `median round trip ${medianAdded.toFixed(2)} ms slower than the reference's, expected ${delayMs} +- ${tolerance.toFixed(2)} ms`;
  }
  // Uniform on +-j: the middle half of the round trips spans j.
  const spreadMs = path.rttP75Ms - path.rttP25Ms;
  if (jitterMs > 0 && !(spreadMs >= jitterMs * 0.5 && spreadMs <= jitterMs * 1.5 + 1 + 2 * noiseMs)) {
    return `interquartile range ${spreadMs.toFixed(2)} ms, expected about ${jitterMs} ms (jitter +-${jitterMs})`;
  }
  return null;
}

/**
 * Checks what the loss rules dropped during a measurement against the requested loss; returns
 * what is off, or null. Binomial bounds on the packets seen: 4 standard deviations, and at least
 * one drop, so a rule that is not in effect never passes.
 */
export function checkLoss(lossPercent: number, counted: LossCount): string | null {
  if (lossPercent === 0) return counted.dropped === 0 ? null : `${counted.dropped} packets dropped where no loss was asked`;
  const p = perDirectionLoss(lossPercent);
  const ratio = counted.seen > 0 ? counted.dropped / counted.seen : 0;
  const tolerance = 4 * Math.sqrt((p * (1 - p)) / Math.max(1, counted.seen));
  if (counted.dropped === 0 || Math.abs(ratio - p) > tolerance) {
    return `${counted.dropped} of ${counted.seen} packets dropped (${(ratio * 100).toFixed(2)} %), expected ${(p * 100).toFixed(2)} +- ${(tolerance * 100).toFixed(2)} % per direction`;
  }
  return null;
}

/**
 * Applies loss, delay and jitter to the path between the caller and a test host, then measures
 * it and throws when the measurement does not show the impairment. Call it before starting
 * listeners on measurePort (default 9, closed).
 */
export async function impairPath(host: TestHost, requested: Impairment, options: ImpairPathOptions = {}): Promise<ImpairedPath> {
  const impairment: Required<Impairment> = {
    delayMs: requested.delayMs ?? 0,
    jitterMs: requested.jitterMs ?? 0,
    lossPercent: requested.lossPercent ?? 0,
  };
  if (impairment.delayMs < 0 || impairment.jitterMs < 0 || impairment.jitterMs > impairment.delayMs) {
    throw new Error(`impairPath: need 0 <= jitterMs <= delayMs (got delay ${impairment.delayMs}, jitter ${impairment.jitterMs})`);
  }
  if (impairment.lossPercent < 0 || impairment.lossPercent >= 100) throw new Error(`impairPath: lossPercent must be in [0, 100)`);
  const measureOptions: MeasurePathOptions = {
    port: options.measurePort ?? 9,
    probes: options.measureProbes ?? (impairment.lossPercent > 0 ? 1000 : 300),
    probeTimeoutMs: Math.min(950, impairment.delayMs + impairment.jitterMs + 300),
    concurrency: 20,
  };
  const before = await measurePath(host, { ...measureOptions, probes: 100 });
  if (before.answered < before.probes * 0.95) {
    throw new Error(`impairPath: port ${measureOptions.port} of ${host.address} does not answer (${before.answered}/${before.probes}); pick a port that is open or closed, not dropped`);
  }

  let delayer: ChildProcess | undefined;
  const clear = async (): Promise<void> => {
    await host.exec(['iptables-legacy', '-t', 'mangle', '-F', 'PREROUTING'], { allowFailure: true }).catch(() => undefined);
    await host.exec(['nft', 'delete', 'table', 'inet', LOSS_TABLE], { allowFailure: true }).catch(() => undefined);
    if (delayer && delayer.exitCode === null) {
      const exited = new Promise((resolve) => delayer?.once('exit', resolve));
      delayer.kill('SIGTERM');
      await exited;
    }
  };
  try {
    if (impairment.delayMs > 0) {
      const binary = await ensureNativeTool('nfq-delayer');
      delayer = host.spawn([
        binary,
        '--queue',
        String(QUEUE_NUMBER),
        '--delay-us',
        String(Math.round(impairment.delayMs * 1000)),
        '--jitter-us',
        String(Math.round(impairment.jitterMs * 1000)),
      ]);
      await waitForReady(delayer, 'nfq-delayer', 5_000);
      await host.exec(['iptables-legacy', '-t', 'mangle', '-A', 'PREROUTING', '-i', host.targetLink, '-j', 'NFQUEUE', '--queue-num', String(QUEUE_NUMBER)]);
    }
    if (impairment.lossPercent > 0) await host.nft(lossRuleset(host, impairment.lossPercent));
    // A burst of load that hits the path's probes and not the reference's can still tip one
    // measurement; a second look tells it apart from an impairment that is not in effect.
    let problem: string | null = null;
    for (let attempt = 0; attempt < MEASURE_ATTEMPTS; attempt += 1) {
      const lossBefore = await readLossCounters(host);
      const comparison = await measurePathBeside(host, measureOptions);
      const lossAfter = await readLossCounters(host);
      problem =
        checkMeasurement(impairment, comparison) ??
        checkLoss(impairment.lossPercent, { seen: lossAfter.seen - lossBefore.seen, dropped: lossAfter.dropped - lossBefore.dropped });
      if (!problem) return { impairment, measurement: comparison.path, clear };
    }
    throw new Error(`impairPath: the impairment is not in effect on ${host.address}: ${problem ?? ''}`);
  } catch (error) {
    await clear();
    throw error;
  }
}
