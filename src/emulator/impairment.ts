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
 * impairPath() measures the path before it returns (path-measurement.ts: paired rounds against a
 * loopback reference, judged so that load on the measuring side cannot fail a correct path) and
 * throws when the measured delay or the kernel-counted loss does not match what was asked.
 */
import type { ChildProcess } from 'node:child_process';
import type { TestHost } from './netns.js';
import { ensureNativeTool } from './native-tool.js';
import { checkMeasurement, type Impairment, type MeasurePathOptions, measurePath, measurePathBeside, type PathMeasurement } from './path-measurement.js';

// The kit's one entry point: measuring is part of impairing.
export { checkMeasurement, measurePath, measurePathBeside } from './path-measurement.js';
export type { Impairment, MeasurePathOptions, PathComparison, PathMeasurement } from './path-measurement.js';

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
  };
  const before = await measurePath(host, { port: measureOptions.port, probes: 100 });
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
    // Load cannot lower a round trip, but a burst can widen the spread or leave the reference
    // too slow to judge by: a second look tells that apart from an impairment not in effect.
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
