/**
 * Fleet benchmark (`npm run bench:fleet`): a `portmatrix audit` of N hosts against N sequential
 * `portmatrix scan` runs of the same hosts, in one run, on one test namespace that answers for a
 * whole routed block (every address a host: listeners on a few ports, every other port closed).
 * Measured from the outside: wall time and peak RSS of each process; from the answers: state
 * errors against the namespace's truth; from the target: SYNs above the profile's per-host rate
 * cap (an nftables meter per destination address, a little above the cap to allow for the
 * token bucket's burst), so the speed-up is never bought by hitting a host harder.
 *
 *   npm run bench:fleet -- [--hosts 32] [--ports 1-5000] [--profile gentle] [--no-sequential]
 *   npm run bench:fleet -- --block 24 --ports all --profile normal --no-sequential   (a /24: memory)
 *   --cap-check-rate N: the rate the meter checks (default the profile's cap; below it, the meter must fire)
 *
 * Sends packets only into the namespace it creates (198.18.0.0/15), and removes it.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ipv4ToNumber, numberToIpv4 } from '../src/util/ipv4.js';
import type { AuditResult } from '../src/audit/model.js';
import { PROFILES, type ProfileName } from '../src/defaults.js';
import { createTestHost, type TestHost } from '../src/emulator/netns.js';
import { countPorts, parsePortSpec } from '../src/model/port-range.js';
import type { ScanResult } from '../src/result/model.js';
import { PACKAGE_ROOT } from '../src/version.js';
import { runMeasured, type ChildRun } from './child-run.js';

const OPEN_PORTS = [22, 80, 443, 1720, 5060];
/** The meter's allowance above the cap: the bucket's burst and timer jitter, not a second cap. */
const CAP_SLACK = 1.1;
const CAP_BURST = 64;

interface Measured {
  wallMs: number;
  peakRssKb: number;
  stateErrors: number;
  synsAboveCap: number;
  hosts: number;
}

function hostsOfBlock(block: string, count: number): string[] {
  const first = ipv4ToNumber(block.split('/')[0] ?? '');
  return Array.from({ length: count }, (_, index) => numberToIpv4(first + 1 + index));
}

/** Ports a host result gets wrong: open ones must be exactly OPEN_PORTS (within the plan), all else closed. */
function stateErrors(result: ScanResult, planned: number): number {
  let errors = 0;
  for (const host of result.hosts) {
    const listed = new Map(host.observations.map((o) => [o.port, o.state]));
    const folded = host.folded.reduce((sum, entry) => sum + (entry.state === 'closed' ? entry.count : 0), 0);
    for (const port of OPEN_PORTS) if (port <= planned && listed.get(port) !== 'open') errors++;
    for (const [port, state] of listed) if (!OPEN_PORTS.includes(port) && state !== 'closed') errors++;
    const closedListed = [...listed.values()].filter((state) => state === 'closed').length;
    errors += Math.max(0, planned - OPEN_PORTS.filter((port) => port <= planned).length - folded - closedListed);
  }
  return errors;
}

async function readSynsAboveCap(host: TestHost): Promise<number> {
  const { stdout } = await host.exec(['nft', 'list', 'chain', 'inet', 'fleetbench', 'in']);
  return Number(/counter packets (\d+)/.exec(stdout)?.[1] ?? 0);
}

async function resetCounter(host: TestHost): Promise<void> {
  await host.exec(['nft', 'reset', 'counters', 'table', 'inet', 'fleetbench']);
}

interface FleetOptions {
  profile: ProfileName;
  blockPrefix: number;
  /** An inventory of the whole block (one cidr entry) rather than a list of addresses. */
  wholeBlock: boolean;
  hostCount: number;
  portSpec: string;
  /** Ports per host. */
  planned: number;
  timeoutMs: number;
  rateCap: number;
  parallel: string;
  sequential: boolean;
}

function parseFleetOptions(): FleetOptions {
  const { values } = parseArgs({
    options: {
      hosts: { type: 'string', default: '32' },
      ports: { type: 'string', default: '1-5000' },
      profile: { type: 'string', default: 'gentle' },
      block: { type: 'string' },
      sequential: { type: 'boolean', default: true },
      'no-sequential': { type: 'boolean' },
      parallel: { type: 'string', default: '32' },
      'run-timeout': { type: 'string', default: '1800' },
      // The rate the target-side meter checks (default: the profile's cap); set it below the cap to see the meter fire.
      'cap-check-rate': { type: 'string' },
    },
  });
  const profile = values.profile as ProfileName;
  if (!Object.hasOwn(PROFILES, profile)) throw new Error(`--profile ${values.profile}: not a profile`);
  const blockPrefix = values.block === undefined ? 26 : Number(values.block);
  const portSpec = values.ports === 'all' ? '1-65535' : values.ports;
  const parsed = parsePortSpec(portSpec);
  if (!parsed.ok) throw new Error(`--ports ${values.ports}: ${parsed.error}`);
  return {
    profile,
    blockPrefix,
    wholeBlock: values.block !== undefined,
    hostCount: values.block === undefined ? Number(values.hosts) : 2 ** (32 - blockPrefix) - 2,
    portSpec,
    planned: countPorts(parsed.ranges),
    timeoutMs: Number(values['run-timeout']) * 1000,
    rateCap: values['cap-check-rate'] === undefined ? PROFILES[profile].maxRatePerSecond : Number(values['cap-check-rate']),
    parallel: values.parallel,
    sequential: values.sequential && !values['no-sequential'],
  };
}

async function main(): Promise<number> {
  const options = parseFleetOptions();
  const host = await createTestHost({ label: 'fleet bench', routedBlockPrefix: options.blockPrefix });
  const work = path.join(tmpdir(), `portmatrix-fleet-${process.pid}`);
  await mkdir(work, { recursive: true });
  try {
    const addresses = hostsOfBlock(host.routedBlock!, options.hostCount);
    const inventory = await prepareTarget(host, options, addresses, work);
    const report: Record<string, Measured> = {};
    report.audit = await measureAudit(host, options, inventory, work);
    if (options.sequential) report.sequential = await measureSequential(host, options, addresses, work);
    printReport(report, options, host.routedBlock);
    const resultsDir = path.join(PACKAGE_ROOT, 'bench', 'results');
    await mkdir(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `fleet-${new Date().toISOString().replaceAll(':', '-')}.json`);
    const { hostCount: hosts, portSpec: ports, profile } = options;
    await writeFile(file, `${JSON.stringify({ hosts, block: host.routedBlock, ports, profile, report }, null, 2)}\n`);
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    return 0;
  } finally {
    await host.destroy();
    if (!process.env.PORTMATRIX_BENCH_KEEP) await rm(work, { recursive: true, force: true });
  }
}

/** The meter, the listeners every address answers with, and the audit's inventory file (returned). */
async function prepareTarget(host: TestHost, options: FleetOptions, addresses: readonly string[], work: string): Promise<string> {
  const { rateCap } = options;
  // SYNs per destination address above the cap (no cap: the meter never fires).
  const meter = rateCap > 0 ? `tcp flags syn meter percap { ip daddr limit rate over ${Math.ceil(rateCap * CAP_SLACK)}/second burst ${CAP_BURST} packets } counter` : '';
  await host.nft(`table inet fleetbench { chain in { type filter hook input priority -5; ${rateCap > 0 ? `${meter};` : ''} }; }`);
  const listener = host.spawn([
    process.execPath,
    '-e',
    `const net=require('node:net');let n=0;for(const p of ${JSON.stringify(OPEN_PORTS)})net.createServer(s=>s.destroy()).listen(p,'0.0.0.0',()=>{if(++n===${OPEN_PORTS.length})console.log('up')})`,
  ]);
  await new Promise<void>((resolve) => listener.stdout!.once('data', () => resolve()));
  const inventory = path.join(work, 'fleet.yaml');
  const entries = options.wholeBlock ? [`  - { cidr: "${host.routedBlock}" }`] : addresses.map((address) => `  - { address: ${address} }`);
  await writeFile(inventory, `schemaVersion: 1\ndefaults: { profile: ${options.profile}, ports: "${options.portSpec}", udp: none }\nhosts:\n${entries.join('\n')}\n`);
  return inventory;
}

const CLI = path.join(PACKAGE_ROOT, 'bin', 'portmatrix.js');

async function measureAudit(host: TestHost, options: FleetOptions, inventory: string, work: string): Promise<Measured> {
  await resetCounter(host);
  const command = [process.execPath, CLI, 'audit', inventory, '--parallel', options.parallel, '--max-hosts', '4096', '--format', 'json', '--output', path.join(work, 'audit'), '--no-progress'];
  const audit = await runMeasured(command, { timeoutMs: options.timeoutMs });
  check(audit, 'audit');
  const auditResult = JSON.parse(await readFile(path.join(work, 'audit', 'audit.json'), 'utf8')) as AuditResult;
  return {
    wallMs: audit.wallMs,
    peakRssKb: audit.peakRssKb ?? 0,
    stateErrors: auditResult.hosts.reduce((sum, audited) => sum + stateErrors(audited.result, options.planned), 0),
    synsAboveCap: await readSynsAboveCap(host),
    hosts: auditResult.hosts.length,
  };
}

/** One `portmatrix scan` per address, one after the other. */
async function measureSequential(host: TestHost, options: FleetOptions, addresses: readonly string[], work: string): Promise<Measured> {
  await resetCounter(host);
  const sequential: Measured = { wallMs: 0, peakRssKb: 0, stateErrors: 0, synsAboveCap: 0, hosts: 0 };
  for (const address of addresses) {
    const output = path.join(work, `scan-${address}.json`);
    const command = [process.execPath, CLI, 'scan', address, '--profile', options.profile, '--ports', options.portSpec, '--udp', 'none', '--format', 'json', '--output', output, '--no-progress'];
    const run = await runMeasured(command, { timeoutMs: options.timeoutMs });
    check(run, `scan ${address}`);
    sequential.wallMs += run.wallMs;
    sequential.peakRssKb = Math.max(sequential.peakRssKb, run.peakRssKb ?? 0);
    sequential.stateErrors += stateErrors(JSON.parse(await readFile(output, 'utf8')) as ScanResult, options.planned);
    sequential.hosts += 1;
  }
  sequential.synsAboveCap = await readSynsAboveCap(host);
  return sequential;
}

function printReport(report: Record<string, Measured>, options: FleetOptions, block: string | undefined): void {
  const { hostCount, portSpec, planned, profile, rateCap } = options;
  const lines = [
    `fleet bench: ${hostCount} hosts (${block}), ports ${portSpec} (${planned}/host), --profile ${profile}${rateCap > 0 ? ` (cap ${rateCap} new connections/s per host)` : ''}`,
    '| run | hosts | wall | peak RSS | state errors | SYNs above the per-host cap |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...Object.entries(report).map(([name, m]) => `| ${name} | ${m.hosts} | ${(m.wallMs / 1000).toFixed(1)} s | ${Math.round(m.peakRssKb / 1024)} MB | ${m.stateErrors} | ${rateCap > 0 ? m.synsAboveCap : 'no cap'} |`),
    ...(report.sequential ? [`speed-up: ${(report.sequential.wallMs / report.audit!.wallMs).toFixed(1)}x`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function check(run: ChildRun, what: string): void {
  if (run.timedOut || run.exitCode === null || run.exitCode > 1) {
    throw new Error(`${what}: exit ${run.exitCode}${run.timedOut ? ' (timed out)' : ''}: ${run.stderrTail}`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench:fleet: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
