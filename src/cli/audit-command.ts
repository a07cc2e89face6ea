/**
 * `portmatrix audit <inventory.yaml>`: every host of an inventory (or the part --site and
 * --shard select) scanned concurrently, each against its own matrix with its own profile's caps,
 * into one combined result and report set and one exit code. Shards written anywhere join with
 * `portmatrix merge`.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { auditDriftRun, auditSincePrevious } from '../audit/drift.js';
import { parseInventoryText } from '../audit/inventory.js';
import { planAudit } from '../audit/plan.js';
import { renderAuditTable } from '../audit/report/table.js';
import { AUDIT_FILE_FORMATS, renderAuditJson, writeAuditReports, type AuditFileFormat } from '../audit/report/write.js';
import { runAudit } from '../audit/run-audit.js';
import { parseAuditText } from '../audit/schema.js';
import { parseShard } from '../audit/shard.js';
import { CHECKS_MODES, type ChecksMode } from '../checks/model.js';
import { AUDIT_PORTS_IN_FLIGHT, DEFAULT_AUDIT_PARALLEL, DEFAULT_MAX_HOSTS, DEFAULT_WAIVER_WARNING_DAYS, EXIT_NOTIFY_FAILED, type ValueRange } from '../defaults.js';
import { PortmatrixError } from '../errors.js';
import { socketBudget } from '../scan/fd-limit.js';
import { shouldColor } from '../output/reports.js';
import { exitCodeForSignal, watchStopSignals } from '../util/stop-signals.js';
import { readInputText } from '../util/read-input.js';
import { createHostRunner } from './audit-host-runner.js';
import { collectCommaList, parseWholeNumber } from './option-values.js';
import { addHistoryOptions, exitCodeAfterNotify, keepRun, notifyRun, openRunHistory, readPreviousRun, type HistoryFlags } from './run-history.js';

interface AuditFlags extends HistoryFlags {
  shard?: string;
  site?: string[];
  parallel: string;
  maxHosts: string;
  warnWaivers: string;
  checks?: string;
  format?: string[];
  output?: string;
  progress: boolean;
}

const AUDIT_RANGES = {
  parallel: { min: 1, max: 1024 },
  maxHosts: { min: 1, max: 1 << 20 },
  warnWaivers: { min: 0, max: 3650 },
} as const satisfies Record<string, ValueRange>;

export function registerAuditCommand(program: Command): Command {
  const command = program
    .command('audit')
    .description('audit a fleet: every host of an inventory against its own matrix, concurrently, into one result and report set')
    .argument('<inventory.yaml>', 'hosts or CIDR groups with matrix, components, platform, policy, profile, tags (schemas/inventory.schema.json)')
    .option('--shard <i/n>', 'audit part i of n (deterministic, balanced by expected work); join the parts with portmatrix merge')
    .option('--site <name>', 'only hosts at this site (repeatable or comma-separated)', collectCommaList)
    .option('--parallel <n>', `hosts scanned at once (each keeps its profile's per-host caps; fewer when their ports together pass ${AUDIT_PORTS_IN_FLIGHT}, to bound memory)`, String(DEFAULT_AUDIT_PARALLEL))
    .option('--max-hosts <n>', 'largest number of hosts the inventory may expand to', String(DEFAULT_MAX_HOSTS))
    .option('--warn-waivers <days>', 'report waivers that expire within this many days as notices', String(DEFAULT_WAIVER_WARNING_DAYS))
    .addOption(
      new Option('--checks <mode>', "service checks after each host's scan, as scan --checks: documented, all, none (over every host's inventory checks:; default: the inventory's, else documented)").choices(
        CHECKS_MODES,
      ),
    )
    .option('--format <formats>', `report files with --output: ${AUDIT_FILE_FORMATS.join(', ')} (default: all); without --output: table or json to standard output`, collectCommaList)
    .option('--output <dir>', 'folder for the report set: audit.json, index.html + hosts/*.html, audit.md, audit.junit.xml')
    .option('--no-progress', 'no per-host progress lines on stderr');
  addHistoryOptions(command, { kept: 'DIR/<start time>/', baseline: 'audit.json' });
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
  const parallel = parseWholeNumber('--parallel', flags.parallel, AUDIT_RANGES.parallel);
  const maxHosts = parseWholeNumber('--max-hosts', flags.maxHosts, AUDIT_RANGES.maxHosts);
  const warnWaiverDays = parseWholeNumber('--warn-waivers', flags.warnWaivers, AUDIT_RANGES.warnWaivers);
  const shard = flags.shard === undefined ? undefined : parseShard(flags.shard);
  const { files, stdoutFormat } = planAuditOutputs(flags.format, flags.output);
  const text = await readInputText(inventoryFile, { label: `inventory ${inventoryFile}`, code: 'E_USAGE', hint: 'pass an inventory YAML file' });
  const entries = parseInventoryText(text, inventoryFile);
  const history = await openRunHistory(flags, process.env);
  // The run this one is compared with, read now: a bad baseline is bad input, before any packet.
  const previous = await readPreviousRun(history, 'audit.json', parseAuditText);
  const { all, selected } = await planAudit(entries, {
    inventoryDir: path.dirname(path.resolve(inventoryFile)),
    maxHosts,
    ...(flags.site ? { sites: flags.site } : {}),
    ...(shard ? { shard } : {}),
  });
  // Every matrix, selection and policy is loaded and checked once, before any packet is sent.
  const runner = await createHostRunner(selected, flags.checks === undefined ? {} : { checks: flags.checks as ChecksMode });
  const stop = watchStopSignals();
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  try {
    const audit = await runAudit({
      hosts: selected,
      runHost: runner.runHost,
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
    // An interrupted audit is not compared: the hosts and ports it never reached would read as drift.
    const sincePrevious = previous && audit.complete ? auditSincePrevious(previous.run, audit, runner.judgeOf) : undefined;
    // The result is written before anyone is notified: a slow or failing webhook never costs it.
    const written: string[] = [];
    if (flags.output !== undefined) written.push(...(await writeAuditReports(audit, flags.output, files, sincePrevious)));
    const kept = await keepRun(history, audit, async (temp) => void (await writeAuditReports(audit, temp, AUDIT_FILE_FORMATS, sincePrevious)), log);
    if (kept !== undefined) written.push(kept);
    for (const file of written) log(`wrote ${file}`);
    const terminal = { stdout: process.stdout, env: process.env };
    process.stdout.write(stdoutFormat === 'json' ? renderAuditJson(audit) : renderAuditTable(audit, { color: shouldColor(terminal), ...(sincePrevious ? { sincePrevious } : {}) }));
    const exitCode = stop.received ? exitCodeForSignal(stop.received) : audit.exitCode;
    const delivered = await notifyRun(
      history,
      {
        command: 'audit',
        startedAt: audit.startedAt,
        complete: audit.complete,
        exitCode: audit.exitCode,
        current: auditDriftRun(audit),
        ...(sincePrevious ? { sincePrevious: sincePrevious.drift } : {}),
        ...(previous ? { previous: previous.source } : {}),
        ...(written[0] === undefined ? {} : { reports: written[0] }),
      },
      log,
    );
    return exitCodeAfterNotify(history, exitCode, delivered);
  } finally {
    stop.dispose();
  }
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
