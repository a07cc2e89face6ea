/**
 * `portmatrix demo`: a first run with nothing to point at. Starts an emulated IP Office 9.1
 * (a network namespace when root, a loopback address otherwise) with four deliberate
 * deviations (three port deviations and one service deviation), scans it exactly as `portmatrix scan --matrix ip-office-9.1` would, writes the
 * reports, removes the target, and says whether the scan found what was injected.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { Finding } from '../conformance/model.js';
import { parseDriftSpec, formatDriftSpec } from '../emulator/drift.js';
import { startEmulator } from '../emulator/emulator.js';
import type { RunningEmulator } from '../emulator/emulator.js';
import { isRoot, namespaceUnavailable } from '../emulator/netns.js';
import { PortmatrixError } from '../errors.js';
import { planOutputs } from '../output/reports.js';
import type { RunOptions } from '../run.js';
import { runAndReport } from './run-and-report.js';

const DEMO_MATRIX = 'ip-office-9.1';
/**
 * An extra listener (error), a missing listener (error), an exposed intra-device port (warning),
 * and plain HTTP on the port documented HTTPS (service mismatch, error; 8443, so that the
 * unprivileged loopback demo can bind it too).
 */
export const DEMO_DRIFT = 'extra:tcp/31337,missing:tcp/8000,expose:tcp/4444,plain:tcp/8443';
const DEMO_FORMATS = ['table', 'json', 'markdown', 'html', 'junit'] as const;
const FINDING_FOR_DEVIATION = {
  'extra-listener': ['extra-listener'],
  'missing-listener': ['missing-listener'],
  'internal-exposed': ['internal-port-exposed'],
  'optional-toggled': ['optional-listener-enabled', 'optional-listener-disabled'],
  'dynamic-open': ['dynamic-port-open'],
  'listener-silent': ['udp-unconfirmed'],
  'filtered-reachable': ['filtered-port-reachable'],
  'service-plain': ['service-mismatch'],
  'service-old-tls': ['tls-below-floor'],
} as const;

interface DemoOptions {
  outputDir: string;
  loopback: boolean;
  udp: boolean;
}

export interface DemoVerdict {
  found: string[];
  notFound: string[];
  /** Findings that no injected deviation explains, minus those the emulator said it could not show. */
  unexpected: Finding[];
  explained: Finding[];
}

/** Holds the scan's findings against what the emulator injected and what it could not emulate. */
export function judgeDemo(emulator: RunningEmulator, findings: readonly Finding[]): DemoVerdict {
  const deviating = findings.filter((finding) => finding.kind !== 'conformant' && finding.severity !== 'off');
  const found: string[] = [];
  const notFound: string[] = [];
  const explainedKeys = new Set<string>();
  for (const deviation of emulator.deviations) {
    const label = `${deviation.kind} ${deviation.transport}/${deviation.port}`;
    const kinds: readonly string[] = FINDING_FOR_DEVIATION[deviation.kind];
    const match = deviating.find((finding) => finding.transport === deviation.transport && finding.port === deviation.port && kinds.includes(finding.kind));
    (match ? found : notFound).push(label);
    explainedKeys.add(`${deviation.transport}/${deviation.port}`);
  }
  const limitation = new Set([
    ...emulator.notEmulated.map((entry) => `${entry.transport}/${entry.port}`),
    ...emulator.foreignListeners.map((entry) => `${entry.transport}/${entry.port}`),
  ]);
  const rest = deviating.filter((finding) => !explainedKeys.has(`${finding.transport}/${finding.port}`));
  return {
    found,
    notFound,
    unexpected: rest.filter((finding) => !limitation.has(`${finding.transport}/${finding.port}`)),
    explained: rest.filter((finding) => limitation.has(`${finding.transport}/${finding.port}`)),
  };
}

function describeTarget(emulator: RunningEmulator): string {
  const where = emulator.mode === 'namespace' ? `in network namespace ${emulator.host?.name ?? ''}` : `on a loopback address (${isRoot() ? '' : 'not root: '}no namespace, no firewall)`;
  const { components, platform } = emulator.selection;
  return `Emulated IP Office 9.1 (${components.join(', ')} on ${platform}) at ${emulator.address}, ${where}`;
}

async function runDemo(options: DemoOptions): Promise<number> {
  const drift = parseDriftSpec(DEMO_DRIFT);
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  // A missing optional tool is no reason for a first run to fail: say so once and use loopback.
  const unavailable = options.loopback ? undefined : namespaceUnavailable();
  if (unavailable && isRoot()) log(`Using a loopback target: ${unavailable}`);
  let emulator: RunningEmulator;
  try {
    emulator = await startEmulator({ matrix: DEMO_MATRIX, drift, mode: options.loopback || unavailable ? 'loopback' : 'namespace', label: 'demo' });
  } catch (error) {
    throw new PortmatrixError('E_SCAN', `demo: cannot start the emulated target: ${(error as Error).message}`, {
      hint: options.loopback ? 'free a 127.x address or check the open-files limit' : 'try --loopback',
      cause: error,
    });
  }
  try {
    log(describeTarget(emulator));
    log(`Deliberate deviations: ${formatDriftSpec(drift).replaceAll(',', ', ')}`);
    const byReason = new Map<string, string[]>();
    for (const entry of emulator.notEmulated) {
      const reason = entry.reason.replace(/^cannot bind \S+ /, 'cannot bind ');
      byReason.set(reason, [...(byReason.get(reason) ?? []), `${entry.transport}/${entry.port}`]);
    }
    for (const [reason, ports] of byReason) log(`Not emulated (${reason}): ${ports.join(', ')}`);
    if (emulator.foreignListeners.length > 0) {
      log(`Other programs listen on all addresses, so they answer here too: ${emulator.foreignListeners.map((f) => `${f.transport}/${f.port}`).join(', ')}`);
    }
    await mkdir(options.outputDir, { recursive: true });
    const base = path.join(options.outputDir, `${DEMO_MATRIX}-demo`);
    log(`Scanning: portmatrix scan ${emulator.address} --matrix ${DEMO_MATRIX} --ports all --udp ${options.udp ? 'matrix' : 'none'} --profile fast --format ${DEMO_FORMATS.join(',')} --output ${base}\n`);

    const runOptions: RunOptions = {
      targets: [emulator.address],
      maxHosts: 1,
      ports: 'all',
      udp: options.udp ? 'matrix' : 'none',
      // Our own emulated target: the fast profile is safe here (never the default for real hosts).
      profile: 'fast',
      conformance: { matrix: DEMO_MATRIX },
    };
    const outcome = await runAndReport(runOptions, { outputs: await planOutputs(DEMO_FORMATS, base), progress: true, outputName: base });
    const scanExit = outcome.exitCode;
    if (!outcome.result.complete) return scanExit;

    const verdict = judgeDemo(emulator, outcome.result.conformance?.findings ?? []);
    log('');
    log(`Injected deviations found by the scan: ${verdict.found.length}/${emulator.deviations.length}${verdict.found.length ? ` (${verdict.found.join('; ')})` : ''}`);
    if (verdict.notFound.length > 0) log(`NOT found: ${verdict.notFound.join('; ')}`);
    if (verdict.explained.length > 0) {
      log(`Also reported, because of the emulator's limits above: ${verdict.explained.map((f) => `${f.kind} ${f.transport}/${f.port}`).join('; ')}`);
    }
    if (verdict.unexpected.length > 0) log(`Unexpected findings: ${verdict.unexpected.map((f) => `${f.kind} ${f.transport}/${f.port}`).join('; ')}`);
    log(`Reports: ${base}.{txt,json,md,html,junit.xml}. Re-render one: portmatrix report ${base}.json --format markdown`);
    log(`Scan exit code would be ${scanExit} (1: findings at --fail-on error). Next: portmatrix scan <host> --matrix ${DEMO_MATRIX}`);
    return verdict.notFound.length === 0 && verdict.unexpected.length === 0 ? 0 : 1;
  } finally {
    await emulator.stop();
  }
}

export function registerDemoCommand(program: Command): Command {
  return program
    .command('demo')
    .description(
      'scan an emulated IP Office 9.1 with four deliberate deviations (namespace when root, loopback otherwise); exit 0 when the scan reports exactly the injected deviations',
    )
    .option('--output-dir <dir>', 'folder for the report files', 'portmatrix-demo')
    .option('--loopback', 'use a loopback address even when root')
    .option('--no-udp', 'scan TCP only')
    .action(async (options: { outputDir: string; loopback?: boolean; udp: boolean }) => {
      process.exitCode = await runDemo({ outputDir: options.outputDir, loopback: options.loopback ?? false, udp: options.udp });
    });
}
