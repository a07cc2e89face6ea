/**
 * `portmatrix scan <targets...>`: flags -> caps, targets and port plans -> scan engine ->
 * ScanResult -> output stage. The conformance step plugs in between the result and the
 * output (see `ScanStages`), so this file stays glue.
 */
import { Command, Option } from 'commander';
import { CHECKS_MODES, type ChecksMode } from '../checks/model.js';
import {
  AUTO_CONFIRM_MAX_SILENT,
  CHECK_LIMITS,
  DEFAULT_CHECKS_MODE,
  DEFAULT_MAX_HOSTS,
  DEFAULT_PROFILE,
  DEFAULT_SNMP_COMMUNITY,
  DEFAULT_UDP_CONFIRM,
  PROFILES,
  UDP_CONFIRM_MODES,
  type CheckLimits,
  type ProfileName,
  type ScanCaps,
  type UdpConfirm,
  VALUE_RANGES,
  type ValueRange,
} from '../defaults.js';
import { PortmatrixError } from '../errors.js';
import type { Expectation } from '../matrix/expectation.js';
import { countPorts, formatPortSpec, normalizeRanges, type PortRange } from '../matrix/port-spec.js';
import { buildScanResult } from '../result/build.js';
import type { ScanResult } from '../result/model.js';
import { scanHosts, type ScanProgress } from '../scan/engine.js';
import { readSoftFdLimit } from '../scan/fd-limit.js';
import { parsePortOption } from '../scan/port-plan.js';
import { decideScanType, detectPrivileges } from '../scan/privileges.js';
import { planUdpPorts } from '../scan/udp-plan.js';
import { nativeProberProblem, type ProberKind } from '../scan/probes/connect-prober.js';
import { readTargetsFile, resolveTargets } from '../scan/targets.js';
import { findSourceAddress, readVantageHostname } from '../scan/vantage.js';
import { checkCaps } from '../scan/check-caps.js';
import { exitCodeForSignal, watchStopSignals } from '../util/stop-signals.js';
import { toTerminalText } from '../util/untrusted-text.js';
import { addConformanceOptions, createConformanceStages } from './conformance-options.js';

export interface ScanCommandOptions {
  ports: string;
  udp: string;
  profile: string;
  maxConcurrency?: string;
  maxRate?: string;
  maxRetries?: string;
  minRttTimeout?: string;
  maxRttTimeout?: string;
  initialRttTimeout?: string;
  maxHosts: string;
  targetsFile?: string;
  format?: string[];
  output?: string;
  seed?: string;
  prober?: string;
  progress: boolean;
  snmpCommunity: string;
  udpConfirm: string;
  /** --checks: none, documented (default), all. */
  checks?: string;
  [option: string]: unknown;
}

/**
 * What the conformance step adds (src/cli/conformance-options.ts). prepare: checks the
 * conformance and output flags before any scanning and returns the selected expectations
 * (for `--ports matrix` and for UDP payloads); finish: adds conformance to the result,
 * writes the requested reports, and returns the exit code.
 */
export interface ScanStages {
  prepare(options: ScanCommandOptions): Promise<{ expectations: Expectation[] }>;
  finish(result: ScanResult, options: ScanCommandOptions): Promise<{ result: ScanResult; exitCode: number }>;
}

const CAP_OPTIONS: { flag: string; key: keyof ScanCaps; option: keyof ScanCommandOptions; what: string }[] = [
  { flag: '--max-concurrency', key: 'maxConcurrency', option: 'maxConcurrency', what: 'connections in flight at once' },
  { flag: '--max-rate', key: 'maxRatePerSecond', option: 'maxRate', what: 'new connections per second per host (0: no cap)' },
  { flag: '--max-retries', key: 'maxRetries', option: 'maxRetries', what: 'retries for ports that gave no answer' },
  { flag: '--min-rtt-timeout', key: 'minRttTimeoutMs', option: 'minRttTimeout', what: 'floor of the adaptive probe timeout, ms' },
  { flag: '--max-rtt-timeout', key: 'maxRttTimeoutMs', option: 'maxRttTimeout', what: 'ceiling of the adaptive probe timeout, ms' },
  { flag: '--initial-rtt-timeout', key: 'initialRttTimeoutMs', option: 'initialRttTimeout', what: 'probe timeout before any RTT is measured, ms' },
];

/** What each profile is for (the caps come from PROFILES, src/defaults.ts). */
const PROFILE_PURPOSES: Record<ProfileName, string> = {
  gentle: 'a production IP500 V2 (one CPU that also runs call control); full TCP range in about 3.6 min',
  normal: 'a server-class target (Server Edition, Contact Center) in a maintenance window',
  fast: 'lab hosts, emulated targets, and hardened hosts that drop everything',
};

/** The part of `scan --help` after the options: profiles with their caps, where output goes, exit codes. */
function describeScanHelp(): string {
  const profiles = (Object.keys(PROFILES) as ProfileName[]).map((name) => {
    const caps = PROFILES[name];
    const rate = caps.maxRatePerSecond === 0 ? 'no rate cap' : `${caps.maxRatePerSecond} new connections/s`;
    return [
      `  ${name}${name === DEFAULT_PROFILE ? ' (default)' : ''}: ${PROFILE_PURPOSES[name]}`,
      `    ${caps.maxConcurrency} in flight, ${rate}, ${caps.maxRetries} retries, probe timeout ${caps.minRttTimeoutMs}-${caps.maxRttTimeoutMs} ms (${caps.initialRttTimeoutMs} ms before an RTT is measured)`,
    ].join('\n');
  });
  return [
    '',
    'Profiles (each cap can be changed on its own with the flags above; the caps used are recorded in the result):',
    ...profiles,
    '',
    'Output:',
    '  Without --output, the report goes to standard output: the table unless --format names another',
    '  format. The table stays a table when standard output is not a terminal (no colour then, nor with',
    '  NO_COLOR); scripts ask for --format json. With --output, the reports are written atomically and',
    '  the summary table goes to standard output. The progress bar goes to stderr, only on a terminal.',
    '',
    'Exit codes: 0 conformant at --fail-on (always 0 without --matrix), 1 findings at or above --fail-on,',
    '  2 bad usage or input, 3 the scan could not run, 128+signal when stopped: 130 SIGINT, 143 SIGTERM, 129 SIGHUP',
    '  (every requested output is still written, marked incomplete, naming the signal).',
    '',
    'Examples:',
    '  portmatrix scan 198.18.0.10 --matrix ip-office-9.1 --component ip-office,voicemail-pro --platform linux',
    '  portmatrix scan 198.18.0.10 --ports none --udp matrix --matrix ip-office-9.1 --format json --output udp.json',
  ].join('\n');
}

/** A whole number inside its documented range (VALUE_RANGES), or one line and exit 2. */
function parseWholeNumber(flag: string, value: string, { min, max }: ValueRange): number {
  const text = value.trim();
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new PortmatrixError('E_USAGE', `${flag} ${JSON.stringify(value)}: expected a whole number from ${min} to ${max}`, { hint: `for example ${flag} ${Math.min(max, Math.max(min, 100))}` });
  }
  return Number(text);
}

/** Profile caps, then each flag on its own. */
export function resolveCaps(options: ScanCommandOptions): { profile: ProfileName; caps: ScanCaps } {
  if (!Object.hasOwn(PROFILES, options.profile)) {
    throw new PortmatrixError('E_USAGE', `--profile ${JSON.stringify(options.profile)} is not a profile`, { hint: `use one of ${Object.keys(PROFILES).join(', ')}` });
  }
  const profile = options.profile as ProfileName;
  const caps: ScanCaps = { ...PROFILES[profile] };
  for (const cap of CAP_OPTIONS) {
    const value = options[cap.option];
    if (typeof value === 'string') caps[cap.key] = parseWholeNumber(cap.flag, value, VALUE_RANGES[cap.key]);
  }
  checkCaps(caps, (key) => CAP_OPTIONS.find((cap) => cap.key === key)?.flag ?? key);
  return { profile, caps };
}

function parseChecksMode(value: string | undefined): ChecksMode {
  const mode = value ?? DEFAULT_CHECKS_MODE;
  if (!(CHECKS_MODES as readonly string[]).includes(mode)) {
    throw new PortmatrixError('E_USAGE', `--checks ${JSON.stringify(mode)} is not a mode`, { hint: `use one of ${CHECKS_MODES.join(', ')}` });
  }
  return mode as ChecksMode;
}

/** The profile's check limits, never more at once than the scan's own concurrency cap. */
function checkLimits(profile: ProfileName, caps: ScanCaps): CheckLimits {
  const limits = CHECK_LIMITS[profile];
  return { concurrency: Math.min(limits.concurrency, caps.maxConcurrency), timeoutMs: limits.timeoutMs };
}

export function documentedPorts(expectations: readonly Expectation[], transport: 'tcp' | 'udp'): PortRange[] {
  return expectations.filter((expectation) => expectation.transport === transport && !expectation.dynamic).map(({ start, end }) => ({ start, end }));
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

export function createProgressBar(stream: Pick<NodeJS.WriteStream, 'write' | 'columns'>): { update(progress: ScanProgress): void; clear(): void } {
  let shown = false;
  return {
    update(progress) {
      const width = 24;
      const fraction = progress.portsTotal > 0 ? progress.portsDone / progress.portsTotal : 1;
      const filled = Math.round(fraction * width);
      const host = progress.hostCount > 1 ? ` host ${progress.hostIndex + 1}/${progress.hostCount}` : '';
      const eta = progress.etaMs === null ? '' : ` ETA ${formatDuration(progress.etaMs)}`;
      const confirming = progress.udpConfirming > 0 ? `  confirming ${progress.udpConfirming} silent UDP port${progress.udpConfirming === 1 ? '' : 's'} (~1/s: the target's ICMP limit)` : '';
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progress.portsDone}/${progress.portsTotal} ports${host}  ${progress.openSoFar} open  ${Math.round(progress.ratePerSecond)}/s${eta}${confirming}`;
      // A terminal that reports 0 or no columns (some CI consoles, serial lines) gets the whole line, not 20 characters of it.
      const columns = stream.columns > 0 ? stream.columns : undefined;
      stream.write(`\r\u001b[2K${columns === undefined ? line : line.slice(0, columns - 1)}`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\u001b[2K');
    },
  };
}

export async function runScanCommand(targetSpecs: string[], options: ScanCommandOptions, stages: ScanStages = createConformanceStages()): Promise<number> {
  const { profile, caps } = resolveCaps(options);
  const maxHosts = parseWholeNumber('--max-hosts', options.maxHosts, VALUE_RANGES.maxHosts);
  const seed = options.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : parseWholeNumber('--seed', options.seed, VALUE_RANGES.seed);
  const prober = options.prober as ProberKind | undefined;
  if (options.syn === true && options.connect === true) {
    throw new PortmatrixError('E_USAGE', '--syn and --connect both given', { hint: 'choose one scan type (without either: SYN when root, else connect)' });
  }
  const privileges = detectPrivileges();
  const scanType = decideScanType({ request: options.syn === true ? 'syn' : options.connect === true ? 'connect' : 'auto', privileges });
  if (scanType.note) process.stderr.write(`portmatrix: note: ${scanType.note}\n`);
  const checksMode = parseChecksMode(options.checks);
  const { expectations } = await stages.prepare(options);
  const tcpPorts = parsePortOption(options.ports, '--ports', documentedPorts(expectations, 'tcp'));
  // --udp matrix: the documented UDP ports of the selection plus COMMON_UDP_PORTS (without --matrix, the common list).
  const udpPorts = planUdpPorts(options.udp, expectations);
  const udpRanges = normalizeRanges(udpPorts.map((port) => ({ start: port, end: port })));
  const udpConfirm = options.udpConfirm as UdpConfirm;
  // Raw ICMP codes (admin-prohibited vs port-unreachable) need CAP_NET_RAW and the optional raw-socket module.
  const privileged = privileges.capNetRaw && privileges.rawSocketModule;
  const specs = [...targetSpecs, ...(options.targetsFile ? await readTargetsFile(options.targetsFile) : [])];
  const targets = await resolveTargets(specs, { maxHosts });
  if (countPorts(tcpPorts) === 0 && udpPorts.length === 0) {
    throw new PortmatrixError('E_USAGE', 'nothing to scan: --ports none and --udp none', { hint: 'give --ports all (the default) or a port list, or --udp matrix (the default) or a port list' });
  }
  // Said once, when the input is good and the scan is about to start.
  const nativeProblem = scanType.scanType === 'connect' && countPorts(tcpPorts) > 0 && prober !== 'net-socket' ? nativeProberProblem() : undefined;
  if (nativeProblem) process.stderr.write(`portmatrix: note: ${nativeProblem}; this scan uses net.Socket (slower)\n`);

  const stop = watchStopSignals();
  const progressBar = options.progress && process.stderr.isTTY ? createProgressBar(process.stderr) : null;
  const startedAt = new Date();
  try {
    const scan = await scanHosts(
      { targets, tcpPorts, udpPorts, caps, expectations, snmpCommunity: options.snmpCommunity, privileged, seed, udpConfirm, tcpScanType: scanType.scanType, ...(prober ? { prober } : {}) },
      { signal: stop.abortSignal, ...(progressBar ? { onProgress: (progress: ScanProgress) => progressBar.update(progress) } : {}) },
    );
    progressBar?.clear();
    // Service checks only after a whole scan: an interrupted run writes what it has at once.
    const checked =
      scan.complete && checksMode !== 'none' && !stop.abortSignal.aborted
        ? await (await import('../checks/run.js')).checkServices({
            mode: checksMode,
            hosts: scan.hosts,
            expectations,
            limits: checkLimits(profile, caps),
            signal: stop.abortSignal,
          })
        : undefined;
    // Checks cut short by a stop signal saw nothing worth reporting: the ports stay, the checks go.
    const complete = scan.complete && !stop.abortSignal.aborted;
    const checksSection = complete ? checked : undefined;
    const finishedAt = new Date();
    const sourceAddresses = (await Promise.all(targets.map((target) => findSourceAddress(target.address, target.family)))).filter(
      (address): address is string => address !== null,
    );
    const built = buildScanResult({
      startedAt,
      finishedAt,
      complete,
      ...(complete ? {} : { incompleteReason: `interrupted by ${stop.received ?? 'a stop signal'}${scan.complete ? ' during the service checks' : ''}` }),
      vantage: { hostname: readVantageHostname(), sourceAddresses },
      parameters: {
        command: 'scan',
        targets: specs,
        profile,
        caps,
        ports: formatPortSpec(tcpPorts),
        udp: formatPortSpec(udpRanges),
        maxHosts,
        seed,
        scanType: scanType.scanType,
        privileges,
        prober: scan.details.prober,
        effectiveTcpConcurrency: scan.details.effectiveTcpConcurrency,
        udpConcurrency: scan.details.udpConcurrency,
        udpScanned: udpPorts.length > 0,
        udpConfirm,
        udpRawIcmp: privileged,
        fdSoftLimit: readSoftFdLimit(),
        tcpTiming: scan.details.tcp,
        checks: checksMode,
        checkLimits: checkLimits(profile, caps),
        secondLook: scan.details.secondLook,
      },
      hosts: scan.hosts,
      ...(checksSection ? { checks: checksSection } : {}),
    });
    const { result, exitCode } = await stages.finish(built, options);
    if (!result.complete) {
      const signal = stop.received ?? 'SIGINT';
      const holder = options.output ? `${toTerminalText(options.output)} holds` : 'the output above is';
      process.stderr.write(`portmatrix: interrupted by ${signal}: ${holder} what was scanned, marked incomplete\n`);
      return exitCodeForSignal(signal);
    }
    return exitCode;
  } finally {
    progressBar?.clear();
    stop.dispose();
  }
}

export function registerScanCommand(program: Command, stages: ScanStages = createConformanceStages()): Command {
  const command = program
    .command('scan')
    .description('scan hosts: every TCP port by default, sorted into open / closed / filtered with a reason and RTT')
    .argument('[targets...]', 'addresses, host names, CIDR blocks, or comma lists')
    .option('--ports <spec>', 'TCP ports: all, matrix (the documented ports of --matrix), none (UDP only), or a list like 1-1024,5060', 'all')
    .option(
      '--udp <spec>',
      'UDP ports: matrix (the documented UDP ports of --matrix plus a list of common telephony and management UDP services; ' +
        'without --matrix the common list), all (slow: targets rate-limit ICMP to about 1/s), none, or a list like 161,5060',
      'matrix',
    )
    .option('--profile <name>', `speed and safety caps: ${Object.keys(PROFILES).join(', ')} (see Profiles below)`, DEFAULT_PROFILE)
    .option('--targets-file <file>', 'read targets from a file, one per line (# comments)')
    .option('--max-hosts <n>', `largest number of distinct hosts the targets may expand to, ${VALUE_RANGES.maxHosts.min}-${VALUE_RANGES.maxHosts.max}`, String(DEFAULT_MAX_HOSTS))
    .option('--seed <n>', `seed of the pseudo-random port order, to repeat a run exactly (${VALUE_RANGES.seed.min}-${VALUE_RANGES.seed.max})`)
    .addOption(
      new Option(
        '--udp-confirm <which>',
        `silent UDP ports re-probed at the target's ICMP rate (~1 s per closed port) until each is open, closed or filtered: ` +
          `all, documented, none, or auto (all when at most ${AUTO_CONFIRM_MAX_SILENT} are silent after the first pass, else documented)`,
      )
        .choices([...UDP_CONFIRM_MODES])
        .default(DEFAULT_UDP_CONFIRM),
    )
    .option('--snmp-community <name>', 'SNMP community for the UDP sysDescr probe', DEFAULT_SNMP_COMMUNITY)
    .addOption(
      new Option(
        '--checks <mode>',
        'service checks after the scan: documented (open ports whose matrix row names HTTPS, SSH, SIP, TLS ...: protocol, TLS versions, certificate), all (every open TCP port), none',
      )
        .choices(CHECKS_MODES)
        .default(DEFAULT_CHECKS_MODE),
    )
    .option('--no-progress', 'no progress bar on stderr (it is shown only on a terminal anyway)')
    .option('--syn', 'SYN (half-open) scan: no handshake is completed; needs root or CAP_NET_RAW (the default when it has them)')
    .option('--connect', 'connect scan (a full handshake per open port) even as root')
    .addOption(new Option('--prober <kind>', 'TCP connect backend').choices(['native', 'net-socket']).hideHelp());
  for (const cap of CAP_OPTIONS) command.option(`${cap.flag} <n>`, `${cap.what}, ${VALUE_RANGES[cap.key].min}-${VALUE_RANGES[cap.key].max} (overrides the profile)`);
  addConformanceOptions(command);
  command.addHelpText('after', describeScanHelp());
  command.action(async (targets: string[], options: ScanCommandOptions) => {
    if (targets.length === 0 && !options.targetsFile) {
      throw new PortmatrixError('E_USAGE', 'scan: no targets', { hint: 'name a host, e.g. portmatrix scan 198.18.0.10, or use --targets-file' });
    }
    process.exitCode = await runScanCommand(targets, options, stages);
  });
  return command;
}
