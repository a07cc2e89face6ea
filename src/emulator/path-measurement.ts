/**
 * Measuring a path to a test host (TCP connects: a SYN-ACK or an RST is an answer) and judging a
 * measurement against the delay that was asked for.
 *
 * The machines that run the tests are shared and noisy, and load on the measuring side only
 * ever adds to a measured round trip, never removes from it. Two consequences shape the check:
 *
 * - A path's own round trips are hard lower bounds: a packet the delayer held for D ms cannot
 *   come back in less than D ms, however loaded the machine is. So "the delay is really there"
 *   is judged on the path's own fastest and median round trips, which load cannot lower.
 * - Subtracting a reference is NOT load-proof: a loaded event loop can add milliseconds to any
 *   short loopback round trip, while a long one, which the process sleeps through, pays a late
 *   wakeup instead; medians, minima and spreads of the two do not line up. So "not more delay
 *   than asked" is judged on the path's fastest round trip too: at most d - j plus what the
 *   reference, probed back to back with the path in each round, shows at its fast end.
 *
 * A reference whose fastest round trip is already slower than the floor being checked means
 * the measuring side cannot tell a delayed path from a plain one: that is reported, never passed.
 */
import net from 'node:net';
import type { TestHost } from './netns.js';

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
  /** Rounds in flight at once. Every one in flight adds event-loop work to the others' round trips. */
  concurrency?: number;
  /** A probe with no answer by then is lost. Must stay under the kernel's 1 s SYN retransmit. */
  probeTimeoutMs?: number;
}

/** Rounds in flight by default: enough to finish 300 rounds of a 25 ms path in about a second. */
const DEFAULT_CONCURRENCY = 8;
/** The delayer's holds are exact to the microsecond; this covers rounding of the asked delay only. */
const FLOOR_SLACK_MS = 0.1;

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

/** The q-quantile of ascending values (nearest rank below), NaN when empty. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor((sorted.length - 1) * q)] ?? Number.NaN;
}

function summarize(probes: number, rtts: number[]): PathMeasurement {
  const sorted = [...rtts].sort((a, b) => a - b);
  const answered = sorted.length;
  const mean = answered ? sorted.reduce((sum, value) => sum + value, 0) / answered : Number.NaN;
  const variance = answered > 1 ? sorted.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (answered - 1) : 0;
  return {
    probes,
    answered,
    lossPercent: ((probes - answered) / probes) * 100,
    rttMeanMs: mean,
    rttStdDevMs: Math.sqrt(variance),
    rttMinMs: sorted[0] ?? Number.NaN,
    rttMaxMs: sorted[answered - 1] ?? Number.NaN,
    rttP25Ms: quantile(sorted, 0.25),
    rttP50Ms: quantile(sorted, 0.5),
    rttP75Ms: quantile(sorted, 0.75),
  };
}

/**
 * Runs `probes` rounds, `concurrency` at a time; each round probes every target once, one after
 * the other, so that the targets of a round share the machine's load of that moment.
 * Returns, per target, the round trip of every round (null when lost).
 */
async function sampleRounds(targets: readonly ProbeTarget[], options: MeasurePathOptions): Promise<(number | null)[][]> {
  const probes = options.probes ?? 400;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const timeoutMs = options.probeTimeoutMs ?? 900;
  const rounds: (number | null)[][] = targets.map(() => []);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < probes) {
      next += 1;
      const round: (number | null)[] = [];
      for (const target of targets) round.push(await probeOnce(target.address, target.port, timeoutMs));
      round.forEach((rtt, index) => rounds[index]?.push(rtt));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, probes) }, worker));
  return rounds;
}

const answeredOnly = (rtts: readonly (number | null)[]): number[] => rtts.filter((rtt): rtt is number => rtt !== null);

/** Measures round-trip time and loss to a test host with TCP connects (an RST or a SYN-ACK is an answer). */
export async function measurePath(host: Pick<TestHost, 'address'>, options: MeasurePathOptions = {}): Promise<PathMeasurement> {
  const [rtts = []] = await sampleRounds([{ address: host.address, port: options.port ?? 9 }], options);
  return summarize(rtts.length, answeredOnly(rtts));
}

/** Measures the path to a test host in paired rounds with a loopback reference (see the file comment). */
export async function measurePathBeside(host: Pick<TestHost, 'address'>, options: MeasurePathOptions = {}): Promise<PathComparison> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  try {
    const { port } = server.address() as net.AddressInfo;
    const [reference = [], path = []] = await sampleRounds([{ address: '127.0.0.1', port }, { address: host.address, port: options.port ?? 9 }], options);
    return { path: summarize(path.length, answeredOnly(path)), reference: summarize(reference.length, answeredOnly(reference)) };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * Checks a measurement against the requested delay; returns what is off, or null.
 * Delay d +- j is uniform on [d - j, d + j] on top of the path's own round trip, and load lowers
 * no round trip: so the path's fastest round trip is at least d - j and its median at least d
 * (the median of the delays drawn), on the path's own figures. A missing or short delay cannot
 * pass that, and a loaded machine cannot fail it. Too much delay: the fastest round trip is at
 * most d - j plus a slack that grows with what the reference shows. Missing jitter: the
 * interquartile range is at least j / 2. Loss is checked by checkLoss, on the kernel's counters.
 */
export function checkMeasurement(impairment: Pick<Impairment, 'delayMs' | 'jitterMs'>, measured: PathComparison): string | null {
  const { path, reference } = measured;
  const { delayMs = 0, jitterMs = 0 } = impairment;
  // The median of n delays uniform on [d - j, d + j] strays about j / sqrt(n).
  const medianSd = jitterMs / Math.sqrt(Math.max(1, path.answered));
  if (delayMs > 0) {
    const floor = delayMs - jitterMs - FLOOR_SLACK_MS;
    if (!(path.rttMinMs >= floor)) {
      return `fastest round trip only ${path.rttMinMs.toFixed(2)} ms, expected at least ${floor.toFixed(2)} ms (delay ${delayMs} - jitter ${jitterMs})`;
    }
    if (!(reference.rttMinMs < floor)) {
      return `the measuring side is too slow to tell: the loopback reference's fastest round trip is ${reference.rttMinMs.toFixed(2)} ms, not under the ${floor.toFixed(2)} ms floor`;
    }
    if (!(path.rttP50Ms >= delayMs - FLOOR_SLACK_MS - 4 * medianSd)) {
      return `median round trip only ${path.rttP50Ms.toFixed(2)} ms, expected at least ${delayMs} ms`;
    }
  }
  // Too much delay: the fastest round trips come back at d - j plus what the measuring side adds
  // at its fast end, which the reference shows: its first quartile in the same rounds.
  const ceiling = delayMs - jitterMs + Math.max(2, delayMs * 0.15) + reference.rttP25Ms;
  if (!(path.rttMinMs <= ceiling)) {
    return `fastest round trip ${path.rttMinMs.toFixed(2)} ms, expected at most ${ceiling.toFixed(2)} ms (delay ${delayMs} - jitter ${jitterMs}, and the reference's first quartile)`;
  }
  // Jitter that is missing: load only widens the spread. (Too much jitter around d shows as a
  // fastest round trip under d - j above.)
  const spreadMs = path.rttP75Ms - path.rttP25Ms;
  if (jitterMs > 0 && !(spreadMs >= jitterMs * 0.5)) {
    return `interquartile range ${spreadMs.toFixed(2)} ms, expected about ${jitterMs} ms (jitter +-${jitterMs})`;
  }
  return null;
}
