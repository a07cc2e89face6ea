/**
 * Emulated targets: a host that behaves as a matrix says (with deliberate drift when asked),
 * on real sockets and real firewall rules.
 *
 * As root the target is a test host (network namespace, see netns.ts) with an nftables ruleset
 * for filtered ports and hardening, optionally an impaired path (impairment.ts). Without root it
 * is a loopback address 127.77.x.y: ports it cannot bind and firewall behaviour are left out and
 * listed, and listeners of other processes on wildcard addresses (which answer on every loopback
 * address) are put into the truth as open, so the truth stays what a scanner must see.
 *
 * The truth comes from planTarget(), the same plan that configures the listeners and rules.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Expectation, Selection } from '../matrix/expectation.js';
import { loadMatrix } from '../matrix/load.js';
import type { Matrix } from '../matrix/model.js';
import type { PortRange } from '../model/port-range.js';
import { selectExpectations } from '../matrix/select.js';
import type { Transport } from '../model/port-state.js';
import type { DriftSpec } from './drift.js';
import type { EmulatorProcessConfig, EmulatorProcessReport } from './emulator-process.js';
import { impairPath } from './impairment.js';
import type { ImpairedPath, Impairment } from './impairment.js';
import { createTestHost, namespaceUnavailable } from './netns.js';
import type { TestHost } from './netns.js';
import { makeEmulatorCertificate } from './certificate.js';
import { PLAIN_OF_TLS, type EmulatedTcpService } from './services.js';
import { planTarget } from './target-plan.js';
import type { Deviation, PortTruth, TargetPlan } from './target-plan.js';
import { PACKAGE_ROOT } from '../version.js';

export type EmulatorMode = 'namespace' | 'loopback';

export interface StartEmulatorOptions {
  /** A matrix, or a built-in id / file path for loadMatrix. */
  matrix: Matrix | string;
  components?: string[];
  platform?: string;
  drift?: DriftSpec;
  /** Drop every port the selection does not document (needs the namespace mode). */
  hardened?: boolean;
  /** Conditions that hold on the emulated install (kinds, row ids, "*"): their listeners run. Default: none. */
  conditions?: readonly string[];
  /** 'namespace' needs root, iproute2 and nftables; default: namespace when it can be made, loopback otherwise. */
  mode?: EmulatorMode;
  /** Loopback mode only: the 127.x.y.z address to bind (default 127.<77+k>.<pid>, k counting emulators). */
  bindAddress?: string;
  /** Namespace mode only: delay, jitter and loss on the path, measured before the emulator starts. */
  impairment?: Impairment;
  /** Namespace mode only: 6 serves (and address is) the test host's IPv6 address. Default 4. */
  family?: 4 | 6;
  label?: string;
}

export interface RunningEmulator {
  mode: EmulatorMode;
  /** The address to scan. */
  address: string;
  selection: Selection;
  expectations: Expectation[];
  /** Expected observed state of every configured port; truthOf() gives any port's state. */
  truth: PortTruth;
  deviations: Deviation[];
  /** Documented behaviour the target does not show, and why (loopback mode: firewall, unbindable ports). */
  notEmulated: TargetPlan['notEmulated'];
  /** Loopback mode: listeners of other processes that answer on the address too. */
  foreignListeners: { transport: Transport; port: number }[];
  host?: TestHost;
  path?: ImpairedPath;
  stop(): Promise<void>;
}

const EMULATOR_TABLE = 'portmatrix_emulator';
const START_TIMEOUT_MS = 15_000;

/** The compiled child entry (the child is a plain node process, so it runs the built JavaScript). */
function emulatorProcessEntry(): string {
  const entry = path.join(PACKAGE_ROOT, 'dist', 'src', 'emulator', 'emulator-process.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
  return entry;
}

function rangeText(ranges: readonly PortRange[]): string {
  return ranges.map((range) => (range.start === range.end ? `${range.start}` : `${range.start}-${range.end}`)).join(', ');
}

/** The nftables ruleset of a plan: DROP for filtered ports, and for hardening everything not allowed. */
export function firewallRuleset(plan: TargetPlan): string | null {
  const rules: string[] = [];
  for (const transport of ['tcp', 'udp'] as const) {
    if (plan.drop[transport].length > 0) rules.push(`${transport} dport { ${rangeText(plan.drop[transport])} } drop`);
  }
  if (plan.allowOnly) {
    for (const transport of ['tcp', 'udp'] as const) {
      if (plan.allowOnly[transport].length > 0) rules.push(`${transport} dport { ${rangeText(plan.allowOnly[transport])} } accept`);
    }
    rules.push('meta l4proto { tcp, udp } drop');
  }
  if (rules.length === 0) return null;
  return `table inet ${EMULATOR_TABLE} {
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "lo" accept
    ${rules.join('\n    ')}
  }
}
`;
}

/** Listening sockets of other processes that answer on `address` (wildcard binds or that very address). */
export function readForeignListeners(address: string): { transport: Transport; port: number }[] {
  const hexAddress = address
    .split('.')
    .map((part) => Number(part).toString(16).toUpperCase().padStart(2, '0'))
    .reverse()
    .join('');
  const found = new Map<string, { transport: Transport; port: number }>();
  const sources: [string, Transport, string][] = [
    ['/proc/net/tcp', 'tcp', '0A'],
    ['/proc/net/tcp6', 'tcp', '0A'],
    ['/proc/net/udp', 'udp', '07'],
    ['/proc/net/udp6', 'udp', '07'],
  ];
  for (const [file, transport, listenState] of sources) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, , state] = [fields[1], fields[2], fields[3]];
      if (!local || state !== listenState) continue;
      const [hostHex, portHex] = local.split(':');
      const wildcard = /^0+$/.test(hostHex ?? '');
      if (!wildcard && hostHex !== hexAddress) continue;
      const port = Number.parseInt(portHex ?? '0', 16);
      found.set(`${transport}/${port}`, { transport, port });
    }
  }
  return [...found.values()];
}

/**
 * The certificate of the TLS services for `address`, or, without the openssl command, those
 * services left out of the truth of their protocol: they stay open but answer in the clear, and
 * notEmulated says so (the demo then explains the service findings they get).
 */
async function prepareTls(address: string, plan: TargetPlan, notEmulated: TargetPlan['notEmulated']): Promise<EmulatorProcessConfig['tls']> {
  const tlsListeners = plan.listeners.filter((listener) => listener.transport === 'tcp' && PLAIN_OF_TLS[listener.service as EmulatedTcpService] !== undefined);
  if (tlsListeners.length === 0) return undefined;
  try {
    return await makeEmulatorCertificate(address);
  } catch (error) {
    const reason = `TLS needs the openssl command to make a certificate (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    for (const listener of tlsListeners) notEmulated.push({ transport: 'tcp', port: listener.port, documented: listener.service, reason });
    return undefined;
  }
}

let loopbackCounter = 0;

/** 127.<77+k>.<pid>: distinct per process and per emulator started by it. */
function defaultLoopbackAddress(): string {
  const k = loopbackCounter % 100;
  loopbackCounter += 1;
  return `127.${77 + k}.${(process.pid >> 8) & 255}.${Math.max(1, process.pid & 255)}`;
}

function startChild(child: ChildProcess, config: EmulatorProcessConfig): Promise<EmulatorProcessReport> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`emulator did not start within ${START_TIMEOUT_MS} ms: ${stderr.trim()}`)), START_TIMEOUT_MS);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(stdout.slice(0, newline)) as EmulatorProcessReport);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emulator exited with code ${String(code)}: ${stderr.trim()}`));
    });
    // stdin stays open: the child exits when it closes, so it cannot outlive this process.
    child.stdin?.write(`${JSON.stringify(config)}\n`);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin?.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}

/** Starts an emulated target for a matrix selection; stop() removes everything it created. */
export async function startEmulator(options: StartEmulatorOptions): Promise<RunningEmulator> {
  const matrix = typeof options.matrix === 'string' ? (await loadMatrix(options.matrix)).matrix : options.matrix;
  const { selection, expectations } = selectExpectations(matrix, {
    ...(options.components ? { components: options.components } : {}),
    ...(options.platform ? { platform: options.platform } : {}),
  });
  const mode = options.mode ?? (namespaceUnavailable() ? 'loopback' : 'namespace');
  if (mode === 'loopback' && options.impairment) throw new Error('path impairment needs the namespace mode (root)');
  if (mode === 'loopback' && options.family === 6) throw new Error('an IPv6 emulated target needs the namespace mode (root)');
  const plan = planTarget({
    expectations,
    ...(options.drift ? { drift: options.drift } : {}),
    hardened: options.hardened ?? false,
    ...(options.conditions ? { conditions: options.conditions } : {}),
    firewall: mode === 'namespace',
  });
  const entry = emulatorProcessEntry();
  const truth: PortTruth = structuredClone(plan.truth);
  const notEmulated = [...plan.notEmulated];

  if (mode === 'loopback') {
    const address = options.bindAddress ?? defaultLoopbackAddress();
    if (!address.startsWith('127.')) throw new Error(`loopback emulator address must be in 127.0.0.0/8, got ${address}`);
    const foreignListeners = readForeignListeners(address);
    const child = spawn(process.execPath, [entry], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stop = (): Promise<void> => stopChild(child);
    try {
      const tls = await prepareTls(address, plan, notEmulated);
      const report = await startChild(child, { address, listeners: plan.listeners, bindLoopbackOnly: false, ...(tls ? { tls } : {}) });
      for (const failure of report.failed) {
        truth[failure.transport][failure.port] = 'closed';
        notEmulated.push({ transport: failure.transport, port: failure.port, documented: 'open', reason: failure.code === 'EACCES' && failure.port < 1024 ? 'ports below 1024 need root' : `cannot bind ${failure.address}:${failure.port} (${failure.code})` });
      }
      // Whatever else listens on a wildcard address answers here too: that is what a scan sees.
      for (const foreign of foreignListeners) truth[foreign.transport][foreign.port] = 'open';
      return { mode, address, selection, expectations, truth, deviations: plan.deviations, notEmulated, foreignListeners, stop };
    } catch (error) {
      await stop();
      throw error;
    }
  }

  const host = await createTestHost({ label: options.label ?? `emulated ${matrix.id}` });
  try {
    const impaired = options.impairment ? await impairPath(host, options.impairment) : undefined;
    const ruleset = firewallRuleset(plan);
    if (ruleset) await host.nft(ruleset);
    const child = host.spawn([process.execPath, entry], { stdio: ['pipe', 'pipe', 'pipe'] });
    const address = options.family === 6 ? host.address6 : host.address;
    const tls = await prepareTls(address, plan, notEmulated);
    const report = await startChild(child, { address, listeners: plan.listeners, bindLoopbackOnly: true, ...(tls ? { tls } : {}) });
    if (report.failed.length > 0) {
      // A fresh namespace has nothing else listening: a failure here is a bug, not a condition to report.
      throw new Error(`emulator could not bind ${report.failed.map((f) => `${f.transport}/${f.port} (${f.code})`).join(', ')}`);
    }
    return {
      mode,
      address,
      selection,
      expectations,
      truth,
      deviations: plan.deviations,
      notEmulated,
      foreignListeners: [],
      host,
      ...(impaired ? { path: impaired } : {}),
      stop: () => host.destroy(),
    };
  } catch (error) {
    await host.destroy();
    throw error;
  }
}
