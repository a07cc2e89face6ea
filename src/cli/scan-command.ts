/**
 * `portmatrix scan <targets...>`: flags -> typed run options -> run (src/run.ts) -> reports.
 * Glue only: every flag is checked here or in prepareRun before any packet is sent.
 */
import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { CHECKS_MODES, type ChecksMode } from '../checks/model.js';
import {
  AUTO_CONFIRM_MAX_SILENT,
  DEFAULT_CHECKS_MODE,
  DEFAULT_MAX_HOSTS,
  DEFAULT_PROFILE,
  DEFAULT_SNMP_COMMUNITY,
  DEFAULT_UDP_CONFIRM,
  EXIT_NOTIFY_FAILED,
  PROFILES,
  UDP_CONFIRM_MODES,
  type ProfileName,
  type ScanCaps,
  type UdpConfirm,
  VALUE_RANGES,
} from '../defaults.js';
import { PortmatrixError } from '../errors.js';
import { planOutputs } from '../output/reports.js';
import { resolveCaps, type RunOptions, type ScanMode } from '../run.js';
import { parsePortSelection } from '../scan/port-plan.js';
import type { ProberKind } from '../scan/probes/connect-prober.js';
import { readTargetsFile } from '../scan/targets.js';
import { driftRunOf } from '../conformance/drift.js';
import { compareWithPrevious } from '../history/since-previous.js';
import { renderJson } from '../report/json.js';
import { toTerminalText } from '../util/untrusted-text.js';
import { parseWholeNumber } from './option-values.js';
import { addHistoryOptions, exitCodeAfterNotify, keepRun, notifyRun, openRunHistory, readPreviousRun, type HistoryFlags } from './run-history.js';
import { addConformanceOptions, toConformanceRequest, type ConformanceFlags } from './conformance-options.js';
import { runAndReport } from './run-and-report.js';

export interface ScanCommandOptions extends ConformanceFlags, HistoryFlags {
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
  seed?: string;
  prober?: string;
  progress: boolean;
  snmpCommunity: string;
  udpConfirm: string;
  /** --checks: none, documented (default), all. */
  checks: string;
  syn?: boolean;
  connect?: boolean;
  assumeUp?: boolean;
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
    '  2 bad usage or input, 3 a host could not be judged (down: nothing answered; unreachable: no route, or a local',
    '  firewall refused to send; 3 wins over 1, the judged hosts are still reported), 128+signal when stopped:',
    '  130 SIGINT, 143 SIGTERM, 129 SIGHUP (every requested output is still written, marked incomplete, naming the signal;',
    '  an interrupted run is not kept in --history, not compared and not notified),',
    `  ${EXIT_NOTIFY_FAILED} a notification could not be delivered (only with --notify-required; the reports are written first).`,
    '',
    'History: with --history DIR every complete run is kept as DIR/<start time>.json ("latest" links the newest); the reports',
    '  of a run with a previous one (the latest, or --baseline FILE) carry a "since the previous run" section.',
    '',
    'Examples:',
    '  portmatrix scan 198.18.0.10 --matrix ip-office-9.1 --component ip-office,voicemail-pro --platform linux',
    '  portmatrix scan 198.18.0.10 --ports none --udp matrix --matrix ip-office-9.1 --format json --output udp.json',
  ].join('\n');
}

/** The cap flags given, each checked, and checked together with the profile's (messages name the flags). */
function parseCapFlags(options: ScanCommandOptions): Partial<ScanCaps> {
  const caps: Partial<ScanCaps> = {};
  for (const cap of CAP_OPTIONS) {
    const value = options[cap.option];
    if (typeof value === 'string') caps[cap.key] = parseWholeNumber(cap.flag, value, VALUE_RANGES[cap.key]);
  }
  resolveCaps(options.profile, caps, (key) => CAP_OPTIONS.find((cap) => cap.key === key)?.flag ?? key);
  return caps;
}

/** --syn, --connect, or neither (SYN where this process can, else connect). */
function scanModeOf(options: ScanCommandOptions): ScanMode {
  if (options.syn === true && options.connect === true) {
    throw new PortmatrixError('E_USAGE', '--syn and --connect both given', { hint: 'choose one scan type (without either: SYN when root, else connect)' });
  }
  return options.syn === true ? 'syn' : options.connect === true ? 'connect' : 'auto';
}

/** The command line as typed run options. Throws PortmatrixError (exit 2) for a bad flag. */
export async function toRunOptions(targetSpecs: readonly string[], options: ScanCommandOptions): Promise<RunOptions> {
  const conformance = toConformanceRequest(options);
  return {
    targets: [...targetSpecs, ...(options.targetsFile ? await readTargetsFile(options.targetsFile) : [])],
    maxHosts: parseWholeNumber('--max-hosts', options.maxHosts, VALUE_RANGES.maxHosts),
    ports: parsePortSelection(options.ports, '--ports'),
    udp: parsePortSelection(options.udp, '--udp'),
    profile: options.profile as ProfileName,
    caps: parseCapFlags(options),
    ...(options.seed === undefined ? {} : { seed: parseWholeNumber('--seed', options.seed, VALUE_RANGES.seed) }),
    scanMode: scanModeOf(options),
    ...(options.prober ? { prober: options.prober as ProberKind } : {}),
    snmpCommunity: options.snmpCommunity,
    udpConfirm: options.udpConfirm as UdpConfirm,
    assumeUp: options.assumeUp === true,
    checks: options.checks as ChecksMode,
    ...(conformance ? { conformance } : {}),
  };
}

export async function runScanCommand(targetSpecs: string[], options: ScanCommandOptions): Promise<number> {
  const outputs = await planOutputs(options.format, options.output);
  const runOptions = await toRunOptions(targetSpecs, options);
  const history = await openRunHistory(options, process.env);
  // The result parser (zod) loads only when there is a previous run to read.
  const previous = await readPreviousRun(history, undefined, async (text, file) => (await import('../report/parse-result.js')).parseResultText(text, file));
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  let delivered = true;
  const { exitCode } = await runAndReport(runOptions, {
    outputs,
    progress: options.progress,
    ...(options.output === undefined ? {} : { outputName: options.output }),
    // An interrupted run is not compared: the ports it never reached would read as drift.
    ...(previous
      ? { annotate: (result, prepared) => (result.complete ? { ...result, sincePrevious: compareWithPrevious(previous.run, result, previous.source, prepared.check) } : result) }
      : {}),
    afterReports: async ({ result, exitCode: runExitCode }, written) => {
      const kept = await keepRun(history, { startedAt: result.startedAt, complete: result.complete, extension: '.json' }, (temp) => writeFile(temp, renderJson(result)), log);
      if (kept !== undefined) log(`wrote ${toTerminalText(kept)}`);
      delivered = await notifyRun(
        history,
        {
          command: 'scan',
          startedAt: result.startedAt,
          complete: result.complete,
          exitCode: runExitCode,
          current: driftRunOf(result),
          ...(result.sincePrevious ? { sincePrevious: result.sincePrevious.drift } : {}),
          ...(previous ? { previous: previous.source } : {}),
          ...((kept ?? written[0]) === undefined ? {} : { reports: kept ?? written[0] }),
        },
        log,
      );
    },
  });
  return exitCodeAfterNotify(history, exitCode, delivered);
}

export function registerScanCommand(program: Command): Command {
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
    .option('--assume-up', "judge every host as up even when nothing answered (nmap's -Pn): a silent host gets missing-listener findings instead of one host-not-up finding and exit 3")
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
  addHistoryOptions(command, { kept: 'DIR/<start time>.json', baseline: 'result.json' });
  command.addHelpText('after', describeScanHelp());
  command.action(async (targets: string[], options: ScanCommandOptions) => {
    if (targets.length === 0 && !options.targetsFile) {
      throw new PortmatrixError('E_USAGE', 'scan: no targets', { hint: 'name a host, e.g. portmatrix scan 198.18.0.10, or use --targets-file' });
    }
    process.exitCode = await runScanCommand(targets, options);
  });
  return command;
}
