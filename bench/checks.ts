/**
 * `npm run bench:checks`: what the service checks add to a full scan of the emulated IP Office
 * 9.1 (default selection, in a network namespace): the same scan (`--ports all --udp matrix
 * --profile fast --matrix ip-office-9.1`) with `--checks none` and `--checks documented`,
 * alternating, N times; wall time of each, the checks stage's own time (checks.durationMs in the
 * result), the ports checked and the connections they took. Then the checks alone under each
 * profile's limits (gentle runs 2 at a time), with nftables SYN counters in the target's namespace
 * per checked port and for all other ports, held against the connections the checks report.
 * Results under bench/results/ (git-ignored).
 *
 * Options: --repetitions N (3), --run-timeout SECONDS (300).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { checkServices } from '../src/checks/run.js';
import { CHECK_LIMITS, type ProfileName } from '../src/defaults.js';
import { startEmulator } from '../src/emulator/emulator.js';
import { isRoot, removeStaleTestHosts } from '../src/emulator/netns.js';
import type { ScanResult } from '../src/result/model.js';
import { PACKAGE_ROOT } from '../src/version.js';
import { runMeasured } from './child-run.js';

const MATRIX = 'ip-office-9.1';
const MODES = ['none', 'documented'] as const;
/** Linux answers closed UDP ports with ~1 ICMP/s after a burst of ~6: let the bucket refill between runs (as bench/run.ts does). */
const ICMP_REFILL_PAUSE_MS = 7_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

type Mode = (typeof MODES)[number];
type Emulator = Awaited<ReturnType<typeof startEmulator>>;

interface MeasuredRun {
  repetition: number;
  mode: Mode;
  wallMs: number;
  scanMs: number;
  checksMs: number;
  checked: number;
  connections: number;
}

/** SYNs one port (or "other": every port no check contacts) got during the checks alone, and the connections the checks report. */
interface PortContact {
  port: string;
  syns: number;
  reported: number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { repetitions: { type: 'string', default: '3' }, 'run-timeout': { type: 'string', default: '300' } } });
  const repetitions = Number(values.repetitions);
  const timeoutMs = Number(values['run-timeout']) * 1000;
  if (!Number.isInteger(repetitions) || repetitions < 1 || !(timeoutMs > 0)) {
    process.stderr.write('usage: npm run bench:checks -- [--repetitions N (3)] [--run-timeout SECONDS (300)]\n');
    return 2;
  }
  if (!isRoot()) {
    process.stderr.write('bench:checks: needs root (the target is a network namespace)\n');
    return 2;
  }
  await removeStaleTestHosts();
  const work = path.join(tmpdir(), `portmatrix-bench-checks-${process.pid}`);
  await mkdir(work, { recursive: true });
  const emulator = await startEmulator({ matrix: MATRIX, mode: 'namespace', label: 'bench checks' });
  try {
    const { runs, sample } = await measureScans(emulator, work, repetitions, timeoutMs);
    const { alone, contacted } = sample ? await measureChecksAlone(emulator, sample) : { alone: {}, contacted: [] };
    printSummary(runs, alone, contacted);
    const resultsDir = path.join(PACKAGE_ROOT, 'bench', 'results');
    await mkdir(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `checks-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await writeFile(file, `${JSON.stringify({ target: { matrix: MATRIX, address: emulator.address, selection: emulator.selection }, runs, checksAloneMs: alone, contacted }, null, 2)}\n`);
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    return 0;
  } finally {
    await emulator.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** The same full scan with each --checks mode, alternating the order, `repetitions` times; the last documented result is the sample. */
async function measureScans(emulator: Emulator, work: string, repetitions: number, timeoutMs: number): Promise<{ runs: MeasuredRun[]; sample: ScanResult | undefined }> {
  const runs: MeasuredRun[] = [];
  let sample: ScanResult | undefined;
  for (let repetition = 0; repetition < repetitions; repetition++) {
    const order = repetition % 2 === 0 ? MODES : [...MODES].reverse();
    for (const mode of order) {
      if (runs.length > 0) await new Promise((resolve) => setTimeout(resolve, ICMP_REFILL_PAUSE_MS));
      const output = path.join(work, `${mode}-${repetition}.json`);
      const command = [process.execPath, path.join(PACKAGE_ROOT, 'bin', 'portmatrix.js'), 'scan', emulator.address, '--matrix', MATRIX];
      command.push('--ports', 'all', '--udp', 'matrix', '--profile', 'fast', '--checks', mode, '--format', 'json', '--output', output, '--no-progress', '--fail-on', 'never');
      const run = await runMeasured(command, { timeoutMs, outputFile: output });
      if (run.exitCode !== 0) throw new Error(`${mode} run ${repetition}: exit ${String(run.exitCode ?? run.signal)}: ${run.stderrTail}`);
      const result = JSON.parse(await readFile(output, 'utf8')) as ScanResult;
      if (mode === 'documented') sample = result;
      const services = result.checks?.services ?? [];
      runs.push({
        repetition,
        mode,
        wallMs: run.wallMs,
        scanMs: Date.parse(result.finishedAt) - Date.parse(result.startedAt),
        checksMs: result.checks?.durationMs ?? 0,
        checked: services.length,
        connections: services.reduce((sum, service) => sum + service.connections, 0),
      });
    }
  }
  return { runs, sample };
}

/**
 * The checks alone under each profile's limits, on the hosts the scan found, with a SYN
 * counter per checked port and one for every other port on the target: the checks must
 * open exactly the connections they report, and none anywhere else.
 */
async function measureChecksAlone(emulator: Emulator, sample: ScanResult): Promise<{ alone: Record<string, number>; contacted: PortContact[] }> {
  const alone: Record<string, number> = {};
  const contacted: PortContact[] = [];
  const host = emulator.host;
  if (!sample.conformance || !host) return { alone, contacted };
  const checkedPorts = [...new Set((sample.checks?.services ?? []).map((service) => service.port))].sort((a, b) => a - b);
  const synRule = 'tcp flags & (syn | ack) == syn counter';
  await host.nft(
    `table inet pmbenchcount {\n chain input {\n  type filter hook input priority -10; policy accept;\n` +
      checkedPorts.map((port) => `  tcp dport ${port} ${synRule}\n`).join('') +
      `  tcp dport != { ${checkedPorts.join(', ')} } ${synRule}\n }\n}\n`,
  );
  const reported = new Map<string, number>();
  for (const profile of Object.keys(CHECK_LIMITS) as ProfileName[]) {
    const section = await checkServices({ mode: 'documented', hosts: sample.hosts, expectations: sample.conformance.expectations, limits: CHECK_LIMITS[profile] });
    alone[profile] = section.durationMs;
    for (const service of section.services) reported.set(String(service.port), (reported.get(String(service.port)) ?? 0) + service.connections);
  }
  const listing = (await host.exec(['nft', 'list', 'table', 'inet', 'pmbenchcount'])).stdout;
  for (const match of listing.matchAll(/tcp dport (!= \{[^}]*\}|\d+) .*counter packets (\d+)/g)) {
    const port = match[1]!.startsWith('!=') ? 'other' : match[1]!;
    contacted.push({ port, syns: Number(match[2]), reported: reported.get(port) ?? 0 });
  }
  return { alone, contacted };
}

function printSummary(runs: readonly MeasuredRun[], alone: Record<string, number>, contacted: readonly PortContact[]): void {
  const byMode = (mode: Mode) => runs.filter((run) => run.mode === mode);
  const table = new Table({ head: ['--checks', 'wall (median)', 'range', 'checks stage (median)', 'ports checked', 'connections'], style: { head: [], border: [] } });
  for (const mode of MODES) {
    const list = byMode(mode);
    const walls = list.map((run) => run.wallMs);
    table.push([mode, seconds(median(walls)), `${seconds(Math.min(...walls))} - ${seconds(Math.max(...walls))}`, seconds(median(list.map((run) => run.checksMs))), String(list[0]?.checked ?? 0), String(list[0]?.connections ?? 0)]);
  }
  const added = median(byMode('documented').map((run) => run.wallMs)) - median(byMode('none').map((run) => run.wallMs));
  process.stdout.write(`${table.toString()}\n`);
  process.stdout.write(`Checks add ${seconds(median(byMode('documented').map((run) => run.checksMs)))} (stage time in the result); wall-time medians differ by ${seconds(added)}.\n`);
  process.stdout.write(`Checks alone by profile limits: ${Object.entries(alone).map(([profile, ms]) => `${profile} ${seconds(ms)}`).join(', ')}\n`);
  const mismatched = contacted.filter((entry) => entry.syns !== entry.reported);
  process.stdout.write(
    `SYNs at the target during the checks alone: ${contacted.map((entry) => `${entry.port} ${entry.syns}`).join(', ')}; ` +
      `${mismatched.length === 0 ? 'every checked port got exactly the connections its checks report, every other port none' : `DIFFERENT from the checks' own count on ${mismatched.map((entry) => `${entry.port} (${entry.syns} SYNs, ${entry.reported} reported)`).join(', ')}`}\n`,
  );
}

process.exitCode = await main();
