/**
 * `portmatrix audit <inventory.yaml>`: every host of an inventory (or the part --site and
 * --shard select) scanned concurrently, each against its own matrix with its own profile's caps,
 * into one combined result and report set and one exit code. Shards written anywhere join with
 * `portmatrix merge`.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { auditDriftRun } from '../audit/drift.js';
import { parseInventoryText } from '../audit/inventory.js';
import type { AuditResult } from '../audit/model.js';
import { planAudit } from '../audit/plan.js';
import { renderAuditTable } from '../audit/report/table.js';
import { AUDIT_FILE_FORMATS, renderAuditJson, writeAuditReports, type AuditFileFormat } from '../audit/report/write.js';
import { runAudit } from '../audit/run-audit.js';
import { parseAuditText } from '../audit/schema.js';
import { parseShard } from '../audit/shard.js';
import { diffRuns, type Drift } from '../conformance/drift.js';
import { checkHistoryDir, entryName, publishRun, readLatest } from '../history/store.js';
import { deliverAll, parseNotifyTarget, type NotifyTarget } from '../notify/send.js';
import { NOTIFY_FORMATS, renderNotification, summarizeForNotification, type NotifyFormat, type NotifyLevel } from '../notify/summary.js';
import { AUDIT_PORTS_IN_FLIGHT, DEFAULT_AUDIT_PARALLEL, DEFAULT_HISTORY_KEEP, DEFAULT_MAX_HOSTS, DEFAULT_WAIVER_WARNING_DAYS, EXIT_NOTIFY_FAILED } from '../defaults.js';
import { PortmatrixError } from '../errors.js';
import { socketBudget } from '../scan/fd-limit.js';
import { createHostRunner } from './audit-host-runner.js';
import { exitCodeForSignal, watchStopSignals } from '../util/stop-signals.js';
import { shouldColor } from '../output/reports.js';
import { readInputText } from '../util/read-input.js';
import { readResult } from './report-command.js';

interface AuditFlags {
  history?: string;
  keep: string;
  baseline?: string;
  notify?: string[];
  notifyFormat: NotifyFormat;
  notifyOn: NotifyLevel;
  notifyRequired?: boolean;
  shard?: string;
  site?: string[];
  parallel: string;
  maxHosts: string;
  warnWaivers: string;
  format?: string[];
  output?: string;
  progress: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((item) => item.trim()).filter(Boolean)];
}

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new PortmatrixError('E_USAGE', `${flag} ${JSON.stringify(value)}: expected a whole number ${min}-${max}`, { hint: `for example ${flag} ${min}` });
  }
  return Number(value);
}

export function registerAuditCommand(program: Command): Command {
  const command = program
    .command('audit')
    .description('audit a fleet: every host of an inventory against its own matrix, concurrently, into one result and report set')
    .argument('<inventory.yaml>', 'hosts or CIDR groups with matrix, components, platform, policy, profile, tags (schemas/inventory.schema.json)')
    .option('--shard <i/n>', 'audit part i of n (deterministic, balanced by expected work); join the parts with portmatrix merge')
    .option('--site <name>', 'only hosts at this site (repeatable or comma-separated)', collect)
    .option('--parallel <n>', `hosts scanned at once (each keeps its profile's per-host caps; fewer when their ports together pass ${AUDIT_PORTS_IN_FLIGHT}, to bound memory)`, String(DEFAULT_AUDIT_PARALLEL))
    .option('--max-hosts <n>', 'largest number of hosts the inventory may expand to', String(DEFAULT_MAX_HOSTS))
    .option('--warn-waivers <days>', 'report waivers that expire within this many days as notices', String(DEFAULT_WAIVER_WARNING_DAYS))
    .option('--format <formats>', `report files with --output: ${AUDIT_FILE_FORMATS.join(', ')} (default: all); without --output: table or json to standard output`, collect)
    .option('--output <dir>', 'folder for the report set: audit.json, index.html + hosts/*.html, audit.md, audit.junit.xml')
    .option('--history <dir>', 'keep every run in DIR/<time>/ (a "latest" link to the newest); reports say what changed since the previous run')
    .option('--keep <n>', 'runs the history keeps (the oldest are removed)', String(DEFAULT_HISTORY_KEEP))
    .option('--baseline <audit.json>', 'compare with this audit instead of the history\'s latest')
    .option('--notify <url|env:NAME>', 'POST a summary when findings at --notify-on or above appear or resolve (repeatable; env:NAME reads a secret URL from the environment)', collect)
    .addOption(new Option('--notify-format <format>', 'json summary, or a Slack/Teams text message').choices(NOTIFY_FORMATS).default('json'))
    .addOption(new Option('--notify-on <severity>', 'lowest severity worth a notification').choices(['error', 'warning', 'notice']).default('error'))
    .option('--notify-required', `a notification that could not be delivered makes the exit code ${EXIT_NOTIFY_FAILED} (else it is only reported)`)
    .option('--no-progress', 'no per-host progress lines on stderr');
  command.addHelpText(
    'after',
    [
      '',
      'Exit codes: 0 every host conformant at its --fail-on, 1 findings on some host, 2 bad input,',
      `  ${EXIT_NOTIFY_FAILED} a notification could not be delivered (only with --notify-required; the reports are written first),`,
      '  3 some host could not be judged (down, unreachable), 128+signal when stopped (130 SIGINT, 143 SIGTERM): what was audited is written, marked incomplete.',
      '',
      'Examples:',
      '  portmatrix audit fleet.yaml --output reports/$(date +%F)',
      '  portmatrix audit fleet.yaml --shard 2/3 --output shard-2     # then: portmatrix merge shard-*/audit.json --output all',
    ].join('\n'),
  );
  return command.action(async (inventoryFile: string, flags: AuditFlags) => {
    process.exitCode = await runAuditCommand(inventoryFile, flags);
  });
}

async function runAuditCommand(inventoryFile: string, flags: AuditFlags): Promise<number> {
  const parallel = wholeNumber('--parallel', flags.parallel, 1, 1024);
  const maxHosts = wholeNumber('--max-hosts', flags.maxHosts, 1, 1 << 20);
  const warnWaiverDays = wholeNumber('--warn-waivers', flags.warnWaivers, 0, 3650);
  const shard = flags.shard === undefined ? undefined : parseShard(flags.shard);
  const { files, stdoutFormat } = planAuditOutputs(flags.format, flags.output);
  const text = await readInputText(inventoryFile, { label: `inventory ${inventoryFile}`, code: 'E_USAGE', hint: 'pass an inventory YAML file' });
  const entries = parseInventoryText(text, inventoryFile);
  const keep = wholeNumber('--keep', flags.keep, 1, 100_000);
  const notifyTargets = (flags.notify ?? []).map((value) => parseNotifyTarget(value, process.env));
  if (flags.history !== undefined) await checkHistoryDir(flags.history);
  // The run this one is compared with, read now: a bad baseline is bad input, before any packet.
  const previous = await readPrevious(flags);
  const { all, selected } = await planAudit(entries, {
    inventoryDir: path.dirname(path.resolve(inventoryFile)),
    maxHosts,
    ...(flags.site ? { sites: flags.site } : {}),
    ...(shard ? { shard } : {}),
  });
  // Every matrix, selection and policy is loaded and checked once, before any packet is sent.
  const runHost = await createHostRunner(selected);
  const stop = watchStopSignals();
  try {
    const audit = await runAudit({
      hosts: selected,
      runHost,
      parallel,
      socketBudget: socketBudget(),
      portsInFlight: AUDIT_PORTS_IN_FLIGHT,
      inventory: { file: inventoryFile, sha256: createHash('sha256').update(text).digest('hex'), hosts: all.length },
      ...(shard ? { shard } : {}),
      ...(flags.site ? { sites: flags.site } : {}),
      warnWaiverDays,
      signal: stop.abortSignal,
      ...(flags.progress ? { onHostDone: (host, done, total) => process.stderr.write(`[${done}/${total}] ${host.address}: exit ${host.exitCode}\n`) } : {}),
    });
    const sincePrevious = previous ? diffRuns(auditDriftRun(previous.audit), auditDriftRun(audit)) : undefined;
    // The result is written before anyone is notified: a slow or failing webhook never costs it.
    const written: string[] = [];
    if (flags.output !== undefined) written.push(...(await writeAuditReports(audit, flags.output, files, sincePrevious)));
    if (flags.history !== undefined) {
      const entry = await publishRun(flags.history, entryName(audit.startedAt), keep, async (temp) => {
        await writeAuditReports(audit, temp, AUDIT_FILE_FORMATS, sincePrevious);
      });
      written.push(entry.path);
      for (const removed of entry.removed) process.stderr.write(`history: removed ${removed} (--keep ${keep})\n`);
    }
    for (const file of written) process.stderr.write(`wrote ${file}\n`);
    const terminal = { stdout: process.stdout, env: process.env };
    process.stdout.write(stdoutFormat === 'json' ? renderAuditJson(audit) : renderAuditTable(audit, { color: shouldColor(terminal), ...(sincePrevious ? { sincePrevious } : {}) }));
    const exitCode = stop.received ? exitCodeForSignal(stop.received) : audit.exitCode;
    const delivered = await notify(notifyTargets, flags, audit, sincePrevious, previous?.source, written[0]);
    return !delivered && flags.notifyRequired && exitCode <= 1 ? EXIT_NOTIFY_FAILED : exitCode;
  } finally {
    stop.dispose();
  }
}

/** The baseline, else the history's latest run; undefined for a first run. */
async function readPrevious(flags: AuditFlags): Promise<{ audit: AuditResult; source: string } | undefined> {
  const latest = flags.baseline === undefined && flags.history !== undefined ? await readLatest(flags.history) : undefined;
  const file = flags.baseline ?? (latest === undefined ? undefined : path.join(latest, 'audit.json'));
  if (file === undefined) return undefined;
  return { audit: parseAuditText(await readResult(file), file), source: file };
}

/** Sends the summary when something at --notify-on or above appeared or resolved; reports each outcome; false when one was not delivered. */
async function notify(targets: readonly NotifyTarget[], flags: AuditFlags, audit: AuditResult, drift: Drift | undefined, previous: string | undefined, reports: string | undefined): Promise<boolean> {
  if (targets.length === 0) return true;
  // Without a previous run, every finding is new.
  const since = drift ?? diffRuns({ startedAt: audit.startedAt, matrices: [], hosts: [], findings: [], services: [] }, auditDriftRun(audit));
  const summary = summarizeForNotification(since, {
    level: flags.notifyOn,
    run: { command: 'audit', startedAt: audit.startedAt, exitCode: audit.exitCode, ...(previous ? { previous } : {}), ...(reports ? { reports } : {}) },
  });
  if (!summary) {
    process.stderr.write(`notify: nothing at ${flags.notifyOn} or above appeared or resolved: no notification\n`);
    return true;
  }
  const outcomes = await deliverAll(targets, renderNotification(summary, flags.notifyFormat));
  for (const outcome of outcomes) {
    process.stderr.write(
      outcome.delivered
        ? `notify: delivered to ${outcome.target} (HTTP ${outcome.status})\n`
        : `portmatrix: notify: not delivered to ${outcome.target} after ${outcome.attempts} attempt${outcome.attempts === 1 ? '' : 's'}: ${outcome.error} (the reports are written; check the webhook)\n`,
    );
  }
  return outcomes.every((outcome) => outcome.delivered);
}

function planAuditOutputs(requested: readonly string[] | undefined, output: string | undefined): { files: AuditFileFormat[]; stdoutFormat: 'table' | 'json' } {
  if (output === undefined) {
    const format = requested?.[0] ?? 'table';
    if ((requested?.length ?? 0) > 1 || (format !== 'table' && format !== 'json')) {
      throw new PortmatrixError('E_USAGE', `--format ${requested?.join(',')} without --output: standard output takes table or json`, { hint: 'name a folder with --output for the report set' });
    }
    return { files: [], stdoutFormat: format };
  }
  const files = requested && requested.length > 0 ? requested : AUDIT_FILE_FORMATS;
  for (const format of files) {
    if (!(AUDIT_FILE_FORMATS as readonly string[]).includes(format)) {
      throw new PortmatrixError('E_USAGE', `unknown --format "${format}" for audit`, { hint: `formats: ${AUDIT_FILE_FORMATS.join(', ')}` });
    }
  }
  return { files: files as AuditFileFormat[], stdoutFormat: 'table' };
}
