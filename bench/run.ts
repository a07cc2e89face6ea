// The bench is one report: targets, runs, table and verdicts read top to bottom in one file (~410 lines).
/**
 * `npm run bench`: portmatrix against nmap on the same emulated targets in the same run.
 *
 * Targets (each an emulated IP Office 9.1 in its own network namespace, see src/emulator):
 *   conformant  documented listeners, everything else closed (RST)             tcp 1-65535
 *   hardened    everything undocumented silently dropped                         tcp 1-65535
 *   lossy       conformant, path with 20 ms +- 5 ms delay and 2 % loss          tcp 1-65535
 *   drifted     two extra listeners and an exposed internal port: what the second
 *               look costs where it has work                                       tcp 1-65535
 *   udp         conformant, default ICMP rate limits: the documented UDP ports
 *               plus 100 undocumented ones                                         udp list
 * Tools: portmatrix as a child process (`scan --profile fast --format json`; TCP with --matrix, so
 * its second look runs, and --checks none) and nmap (`-sS -p- -T4 -n -Pn`, or `-sT` with
 * --scan-type connect; `-sU -T4 -n -Pn` on the same UDP list, `-oX` to read the states).
 * Completed handshakes are counted on the target itself (PassiveOpens in the namespace's
 * /proc/net/snmp, before and after each run): a SYN scan must leave it unchanged.
 * The order of the two alternates between repetitions. Prints wall time (median and range),
 * the ratio portmatrix / nmap, peak RSS, and state errors against the emulator's truth;
 * writes everything as JSON under bench/results/ (git-ignored).
 *
 * Options: --repetitions N (3), --targets conformant,hardened,lossy,drifted,udp, --profile fast,
 * --scan-type syn|connect (syn), --run-timeout SECONDS (300).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { parseDriftSpec } from '../src/emulator/drift.js';
import { startEmulator } from '../src/emulator/emulator.js';
import type { RunningEmulator, StartEmulatorOptions } from '../src/emulator/emulator.js';
import type { PortTruth } from '../src/emulator/target-plan.js';
import { isRoot, removeStaleTestHosts } from '../src/emulator/netns.js';
import { measurePath } from '../src/emulator/impairment.js';
import type { PathMeasurement } from '../src/emulator/impairment.js';
import type { Transport } from '../src/model/port-state.js';
import type { ScanResult } from '../src/result/model.js';
import { runMeasured } from './child-run.js';
import type { ChildRun } from './child-run.js';
import { compareWithTruth, statesFromNmapXml, statesFromPortmatrix } from './tool-states.js';
import type { ObservedStates, StateErrors } from './tool-states.js';
import { PACKAGE_ROOT } from '../src/version.js';

type TargetName = 'conformant' | 'hardened' | 'lossy' | 'drifted' | 'udp';
type ToolName = 'portmatrix' | 'nmap';
type ScanType = 'syn' | 'connect';

interface TargetDefinition {
  name: TargetName;
  transport: Transport;
  what: string;
  emulator: Omit<StartEmulatorOptions, 'matrix'>;
}

const MATRIX = 'ip-office-9.1';
const TARGETS: TargetDefinition[] = [
  { name: 'conformant', transport: 'tcp', what: 'documented listeners, rest closed', emulator: {} },
  { name: 'hardened', transport: 'tcp', what: 'undocumented ports dropped', emulator: { hardened: true } },
  { name: 'lossy', transport: 'tcp', what: '20 ms +- 5 ms, 2 % loss', emulator: { impairment: { delayMs: 20, jitterMs: 5, lossPercent: 2 } } },
  { name: 'drifted', transport: 'tcp', what: '2 extra listeners, 1 internal exposed', emulator: { drift: parseDriftSpec('extra:tcp/31337,extra:tcp/40000,expose:tcp/4444') } },
  { name: 'udp', transport: 'udp', what: 'documented UDP + 100 others, ICMP limits', emulator: {} },
];
const UNDOCUMENTED_UDP_PORTS = 100;
/** Linux answers closed UDP ports with ~1 ICMP/s after a burst of ~6: let the bucket refill between runs. */
const ICMP_REFILL_PAUSE_MS = 7_000;
/** A scanner that wrote its result but has not exited this long after is killed (and the run noted). */
const EXIT_GRACE_MS = 10_000;

const root = PACKAGE_ROOT;

/** The goals of issue 15 for the SYN scan: portmatrix / nmap wall-time ratio at most this. */
const RATIO_GOALS: Partial<Record<TargetName, number>> = { conformant: 0.5, hardened: 0.05, lossy: 0.1 };
/** The second look may cost at most this share of the scan's own time. */
const SECOND_LOOK_GOAL = 0.05;

function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

interface RunRecord {
  repetition: number;
  tool: ToolName;
  wallMs: number;
  peakRssKb: number | null;
  exitCode: number | null;
  /** null: the tool's output could not be read (it failed, or the feature is missing). */
  stateErrors: StateErrors | null;
  resultMs?: number;
  /** Handshakes the target's kernel completed during the run (its PassiveOpens counter). */
  handshakes: number | null;
  /** portmatrix: the second look's time, from its result (parameters.secondLook). */
  secondLookMs?: number;
  note?: string;
}

interface TargetReport {
  target: TargetName;
  transport: Transport;
  what: string;
  address: string;
  ports: number;
  /** The emulator's truth, from the same plan that configured the target. */
  truth: PortTruth;
  path?: PathMeasurement;
  pathAfter?: PathMeasurement;
  runs: RunRecord[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

/** A fixed pseudo-random choice (same every run) of undocumented UDP ports above 1023. */
function undocumentedUdpPorts(emulator: RunningEmulator, count: number): number[] {
  const documented = emulator.expectations.filter((expectation) => expectation.transport === 'udp');
  const chosen = new Set<number>();
  let state = 0x2545f491;
  while (chosen.size < count) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const port = 1024 + (state % (65536 - 1024));
    if (!documented.some((expectation) => port >= expectation.start && port <= expectation.end)) chosen.add(port);
  }
  return [...chosen];
}

function plannedPorts(target: TargetDefinition, emulator: RunningEmulator): number[] {
  if (target.transport === 'tcp') return Array.from({ length: 65535 }, (_, index) => index + 1);
  const documented = emulator.expectations.filter((e) => e.transport === 'udp' && !e.dynamic).map((e) => e.start);
  return [...new Set([...documented, ...undocumentedUdpPorts(emulator, UNDOCUMENTED_UDP_PORTS)])].sort((a, b) => a - b);
}

function toolCommand(tool: ToolName, target: TargetDefinition, address: string, ports: number[], outputFile: string, options: { profile: string; scanType: ScanType }): string[] {
  const list = ports.join(',');
  if (tool === 'nmap') {
    return target.transport === 'tcp'
      ? ['nmap', options.scanType === 'syn' ? '-sS' : '-sT', '-p-', '-T4', '-n', '-Pn', '-oX', outputFile, address]
      : ['nmap', '-sU', '-T4', '-n', '-Pn', '-p', `U:${list}`, '-oX', outputFile, address];
  }
  const base = [process.execPath, path.join(root, 'bin', 'portmatrix.js'), 'scan', address, '--profile', options.profile, '--format', 'json', '--output', outputFile, '--no-progress'];
  // --matrix gives the UDP engine the documented ports to favour, and TCP its second look; the findings are not used here.
  return target.transport === 'tcp'
    ? [...base, `--${options.scanType}`, '--ports', 'all', '--udp', 'none', '--matrix', MATRIX, '--checks', 'none']
    : [...base, '--ports', 'none', '--udp', list, '--matrix', MATRIX];
}

/** The target's count of completed handshakes (TCP PassiveOpens, read inside its namespace). */
async function passiveOpens(emulator: RunningEmulator): Promise<number | null> {
  if (!emulator.host) return null;
  const { stdout } = await emulator.host.exec(['cat', '/proc/net/snmp']);
  const [names, values] = stdout.split('\n').filter((line) => line.startsWith('Tcp:'));
  const index = names?.split(/\s+/).indexOf('PassiveOpens') ?? -1;
  const value = Number(values?.split(/\s+/)[index]);
  return index >= 0 && Number.isFinite(value) ? value : null;
}

interface ToolOutcome {
  states: ObservedStates | null;
  note?: string;
  /** portmatrix: scan time from its own result (startedAt -> finishedAt). */
  resultMs?: number;
  secondLookMs?: number;
}

async function readToolStates(tool: ToolName, run: ChildRun, outputFile: string, transport: Transport, ports: number[]): Promise<ToolOutcome> {
  const failure = `exit ${String(run.exitCode ?? run.signal)}${run.timedOut ? ', killed at the run timeout' : ''}${run.hungAfterOutput ? ', killed: did not exit after writing its output' : ''}: ${run.stderrTail}`;
  if (!existsSync(outputFile)) return { states: null, note: `no output (${failure})` };
  const text = await readFile(outputFile, 'utf8');
  if (tool === 'nmap') return run.exitCode === 0 ? { states: statesFromNmapXml(text, transport, ports) } : { states: null, note: failure };
  const result = JSON.parse(text) as ScanResult;
  const resultMs = Date.parse(result.finishedAt) - Date.parse(result.startedAt);
  if (!result.complete) return { states: null, note: `incomplete result (${failure})`, resultMs };
  // A complete result from a process that then hung: its states count, its wall time is until it was killed.
  const note =
    run.timedOut || run.hungAfterOutput ? `result complete after ${(resultMs / 1000).toFixed(1)} s, but the process did not exit (killed)` : undefined;
  const secondLook = Object.values((result.parameters.secondLook ?? {}) as Record<string, { durationMs: number }>);
  const secondLookMs = secondLook.reduce((sum, look) => sum + look.durationMs, 0);
  return { states: statesFromPortmatrix(result, transport), resultMs, secondLookMs, ...(note ? { note } : {}) };
}

async function benchTarget(
  target: TargetDefinition,
  options: { repetitions: number; profile: string; scanType: ScanType; runTimeoutMs: number; workDir: string },
): Promise<TargetReport> {
  process.stderr.write(`\n== ${target.name}: starting the emulated target\n`);
  const emulator = await startEmulator({ matrix: MATRIX, mode: 'namespace', label: `bench ${target.name}`, ...target.emulator });
  try {
    // Only addresses inside namespaces this run created are ever scanned.
    if (!/^198\.1[89]\./.test(emulator.address)) throw new Error(`refusing to scan ${emulator.address}: not a test host address`);
    const ports = plannedPorts(target, emulator);
    const documentedPorts = new Set(
      emulator.expectations.filter((e) => e.transport === target.transport && !e.dynamic).flatMap((e) => Array.from({ length: e.end - e.start + 1 }, (_, i) => e.start + i)),
    );
    const report: TargetReport = {
      target: target.name,
      transport: target.transport,
      what: target.what,
      address: emulator.address,
      ports: ports.length,
      truth: emulator.truth,
      runs: [],
    };
    if (emulator.path) {
      report.path = emulator.path.measurement;
      const m = emulator.path.measurement;
      process.stderr.write(`   path measured: RTT ${m.rttMeanMs.toFixed(1)} ms +- ${m.rttStdDevMs.toFixed(1)} (sd), loss ${m.lossPercent.toFixed(1)} % over ${m.probes} probes\n`);
    }
    for (let repetition = 1; repetition <= options.repetitions; repetition += 1) {
      const order: ToolName[] = repetition % 2 === 1 ? ['portmatrix', 'nmap'] : ['nmap', 'portmatrix'];
      for (const tool of order) {
        if (target.transport === 'udp') await new Promise((resolve) => setTimeout(resolve, ICMP_REFILL_PAUSE_MS));
        const outputFile = path.join(options.workDir, `${target.name}-${tool}-${repetition}.${tool === 'nmap' ? 'xml' : 'json'}`);
        const opensBefore = await passiveOpens(emulator);
        const run = await runMeasured(toolCommand(tool, target, emulator.address, ports, outputFile, options), {
          timeoutMs: options.runTimeoutMs,
          // nmap writes -oX as it goes, so only portmatrix's (atomic) output marks the end.
          ...(tool === 'portmatrix' ? { outputFile, exitGraceMs: EXIT_GRACE_MS } : {}),
        });
        const opensAfter = await passiveOpens(emulator);
        const handshakes = opensBefore === null || opensAfter === null ? null : opensAfter - opensBefore;
        const { states, note, resultMs, secondLookMs } = await readToolStates(tool, run, outputFile, target.transport, ports).catch(
          (error: Error): ToolOutcome => ({ states: null, note: error.message }),
        );
        const stateErrors = states ? compareWithTruth(states, emulator.truth, target.transport, ports, documentedPorts) : null;
        report.runs.push({
          repetition,
          tool,
          wallMs: run.wallMs,
          peakRssKb: run.peakRssKb,
          exitCode: run.exitCode,
          stateErrors,
          handshakes,
          ...(resultMs === undefined ? {} : { resultMs }),
          ...(secondLookMs === undefined ? {} : { secondLookMs }),
          ...(note ? { note } : {}),
        });
        process.stderr.write(
          `   ${target.name} #${repetition} ${tool.padEnd(10)} ${(run.wallMs / 1000).toFixed(2).padStart(7)} s  ${run.peakRssKb === null ? '?' : (run.peakRssKb / 1024).toFixed(0)} MB  handshakes ${handshakes ?? '?'}  ${secondLookMs ? `second look ${secondLookMs.toFixed(0)} ms  ` : ''}errors ${stateErrors ? `${stateErrors.count} (documented ${stateErrors.documented})` : 'n/a'}${stateErrors?.examples.length ? ` (${stateErrors.examples.slice(0, 3).join('; ')})` : ''}${note ? `  [${note}]` : ''}\n`,
        );
      }
    }
    if (emulator.path) {
      // Measured again at the end: the impairment held for every run, not just at the start.
      report.pathAfter = await measurePath(emulator, { port: 9, probes: 1000, concurrency: 20 });
      const m = report.pathAfter;
      process.stderr.write(`   path after the runs: RTT ${m.rttMeanMs.toFixed(1)} ms +- ${m.rttStdDevMs.toFixed(1)} (sd), loss ${m.lossPercent.toFixed(1)} %\n`);
    }
    return report;
  } finally {
    await emulator.stop();
  }
}

function summarize(report: TargetReport, tool: ToolName) {
  const runs = report.runs.filter((run) => run.tool === tool);
  const walls = runs.map((run) => run.wallMs / 1000);
  const rss = runs.map((run) => run.peakRssKb).filter((kb): kb is number => kb !== null);
  const errors = runs.map((run) => run.stateErrors?.count ?? null);
  const documentedErrors = runs.map((run) => run.stateErrors?.documented ?? null);
  const handshakes = runs.map((run) => run.handshakes);
  // The second look's share of the scan's own time (its result's startedAt -> finishedAt).
  const secondLookShares = runs.filter((run) => run.resultMs).map((run) => (run.secondLookMs ?? 0) / (run.resultMs ?? 1));
  return {
    handshakes,
    secondLookShare: secondLookShares.length ? Math.max(...secondLookShares) : null,
    medianS: median(walls),
    minS: Math.min(...walls),
    maxS: Math.max(...walls),
    peakRssMb: rss.length ? Math.max(...rss) / 1024 : null,
    errors,
    documentedErrors,
    notes: [...new Set(runs.map((run) => run.note).filter(Boolean))],
  };
}

function printTable(reports: TargetReport[]): void {
  const table = new Table({
    head: ['target', 'ports', 'tool', 'wall median', 'range', 'pm / nmap', 'peak RSS', 'handshakes at target', 'second look', 'state errors per run (on documented ports)'],
    style: { head: [], border: [] },
  });
  for (const report of reports) {
    const pm = summarize(report, 'portmatrix');
    const nmap = summarize(report, 'nmap');
    // A ratio only means something when portmatrix actually produced the states it is timed on.
    const comparable = pm.errors.every((count) => count !== null);
    const ratio = comparable ? pm.medianS / nmap.medianS : Number.NaN;
    for (const [tool, summary] of [['portmatrix', pm], ['nmap', nmap]] as const) {
      table.push([
        tool === 'portmatrix' ? `${report.target}\n${report.what}` : '',
        tool === 'portmatrix' ? `${report.transport} ${report.ports}` : '',
        tool,
        `${summary.medianS.toFixed(2)} s`,
        `${summary.minS.toFixed(2)}-${summary.maxS.toFixed(2)} s`,
        tool === 'portmatrix' ? (Number.isFinite(ratio) ? ratio.toFixed(2) : '-') : '',
        summary.peakRssMb === null ? '?' : `${summary.peakRssMb.toFixed(0)} MB`,
        summary.handshakes.map((count) => (count === null ? '?' : String(count))).join(' / '),
        summary.secondLookShare === null ? '' : `${(summary.secondLookShare * 100).toFixed(1)} %`,
        `${summary.errors.map((count) => (count === null ? 'n/a' : String(count))).join(' / ')}` +
          ` (documented ${summary.documentedErrors.map((count) => (count === null ? 'n/a' : String(count))).join(' / ')})` +
          `${summary.notes.length ? `\n${summary.notes.join('; ').slice(0, 60)}` : ''}`,
      ]);
    }
  }
  process.stdout.write(`${table.toString()}\n`);
  for (const report of reports) process.stdout.write(`${verdict(report)}\n`);
}

/** One line per target: each goal, met or missed, with the figure it was judged on. */
function verdict(report: TargetReport): string {
  const pm = summarize(report, 'portmatrix');
  const nmap = summarize(report, 'nmap');
  const checks: string[] = [];
  const goal = RATIO_GOALS[report.target];
  const ratio = pm.medianS / nmap.medianS;
  if (goal !== undefined) checks.push(`${ratio <= goal ? 'met' : 'MISSED'} ratio ${ratio.toFixed(3)} <= ${goal}`);
  const errors = pm.errors.every((count) => count === 0);
  checks.push(`${errors ? 'met' : 'MISSED'} 0 state errors`);
  if (report.transport === 'tcp') {
    const handshakes = pm.handshakes.every((count) => count === 0);
    checks.push(`${handshakes ? 'met' : 'MISSED'} 0 handshakes at the target`);
  }
  if (pm.secondLookShare !== null && pm.secondLookShare > 0) {
    checks.push(`${pm.secondLookShare <= SECOND_LOOK_GOAL ? 'met' : 'MISSED'} second look ${(pm.secondLookShare * 100).toFixed(1)} % <= ${SECOND_LOOK_GOAL * 100} %`);
  }
  return `${report.target}: ${checks.join(', ')}`;
}

async function main(): Promise<number> {
  const usage =
    'usage: npm run bench -- [--repetitions N (3)] [--targets ' +
    TARGETS.map((target) => target.name).join(',') +
    '] [--profile fast] [--scan-type syn|connect (syn)] [--run-timeout SECONDS (300)]\n';
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        repetitions: { type: 'string', default: '3' },
        targets: { type: 'string', default: TARGETS.map((target) => target.name).join(',') },
        profile: { type: 'string', default: 'fast' },
        'scan-type': { type: 'string', default: 'syn' },
        'run-timeout': { type: 'string', default: '300' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const repetitions = Number(values.repetitions);
  if (!Number.isInteger(repetitions) || repetitions < 1 || repetitions > 50) {
    process.stderr.write('bench: --repetitions must be a whole number from 1 to 50\n');
    return 2;
  }
  const scanType = values['scan-type'];
  if (scanType !== 'syn' && scanType !== 'connect') {
    process.stderr.write(`bench: --scan-type must be syn or connect, not "${scanType}"\n`);
    return 2;
  }
  const wanted = values.targets.split(',').map((name) => name.trim());
  const unknown = wanted.filter((name) => !TARGETS.some((target) => target.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown target ${unknown.join(', ')} (targets: ${TARGETS.map((target) => target.name).join(', ')})\n`);
    return 2;
  }
  if (!isRoot()) {
    process.stderr.write('bench: needs root (the targets are network namespaces with firewall rules and path impairment)\n');
    return 3;
  }
  await removeStaleTestHosts();
  const loadAtStart = loadAverage();
  // What is compared, and on what machine: the table alone does not say.
  process.stderr.write(
    `portmatrix scan --profile ${values.profile} --${scanType} --ports all (--matrix ${MATRIX}, --checks none) vs nmap ${scanType === 'syn' ? '-sS' : '-sT'} -p- -T4 -n -Pn; ` +
      `${repetitions} repetition(s), order alternating; ${availableParallelism()} CPUs, load average ${loadAtStart} (1, 5, 15 min) at the start\n`,
  );
  const workDir = path.join(tmpdir(), `portmatrix-bench-${process.pid}`);
  await mkdir(workDir, { recursive: true });
  const startedAt = new Date();
  const reports: TargetReport[] = [];
  try {
    for (const target of TARGETS.filter((candidate) => wanted.includes(candidate.name))) {
      reports.push(await benchTarget(target, { repetitions, profile: values.profile, scanType, runTimeoutMs: Number(values['run-timeout']) * 1000, workDir }));
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const loadAtEnd = loadAverage();
  printTable(reports);
  process.stdout.write(
    `profile ${values.profile}, scan type ${scanType}; ${availableParallelism()} CPUs; load average at start ${loadAtStart}, at end ${loadAtEnd} (1, 5, 15 min): ` +
      `wall times on a loaded machine are longer for both tools, the ratio less so\n`,
  );
  const resultsDir = path.join(root, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `bench-${startedAt.toISOString().replaceAll(':', '-')}.json`);
  const summary = reports.map((report) => ({ target: report.target, portmatrix: summarize(report, 'portmatrix'), nmap: summarize(report, 'nmap') }));
  await writeFile(file, `${JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), repetitions, profile: values.profile, scanType, cpus: availableParallelism(), loadAverage: { start: loadAtStart, end: loadAtEnd }, summary, reports }, null, 2)}\n`);
  process.stderr.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  return 0;
}

process.exitCode = await main();
