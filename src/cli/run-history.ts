/**
 * What `scan` and `audit` share around a run: --history/--keep/--baseline (the previous run read
 * before any packet is sent, the finished run kept), and --notify (what appeared or resolved at
 * --notify-on or above, POSTed after the reports are written: a webhook never costs the result).
 * An interrupted run is written where asked, marked incomplete, but never kept in the history nor
 * notified: its unscanned ports would read as drift, and the next run must compare with a whole one.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { diffRuns, type Drift, type DriftRun } from '../conformance/drift.js';
import { DEFAULT_HISTORY_KEEP, EXIT_NOTIFY_FAILED } from '../defaults.js';
import { checkHistoryDir, entryName, publishRun, readLatest } from '../history/store.js';
import { deliverAll, parseNotifyTarget, type NotifyTarget } from '../notify/send.js';
import { NOTIFY_FORMATS, renderNotification, summarizeForNotification, type NotifyFormat, type NotifyLevel } from '../notify/summary.js';
import { toTerminalText } from '../util/untrusted-text.js';
import { collectCommaList, parseWholeNumber } from './option-values.js';
import { readResult } from './read-result.js';

export interface HistoryFlags {
  history?: string;
  keep: string;
  baseline?: string;
  notify?: string[];
  notifyFormat: NotifyFormat;
  notifyOn: NotifyLevel;
  notifyRequired?: boolean;
}

/** The history and notification settings, checked. */
export interface RunHistory {
  dir?: string;
  keep: number;
  baseline?: string;
  targets: NotifyTarget[];
  format: NotifyFormat;
  level: NotifyLevel;
  required: boolean;
}

const KEEP_RANGE = { min: 1, max: 100_000 };

/** --history, --keep, --baseline and the --notify flags; `kept` says what a run is kept as, `baseline` names the file --baseline takes. */
export function addHistoryOptions(command: Command, words: { kept: string; baseline: string }): Command {
  return command
    .option('--history <dir>', `keep every complete run as ${words.kept} (a "latest" link to the newest); reports say what changed since the previous run`)
    .option('--keep <n>', `runs the history keeps, ${KEEP_RANGE.min}-${KEEP_RANGE.max} (the oldest are removed)`, String(DEFAULT_HISTORY_KEEP))
    .option('--baseline <file>', `compare with this ${words.baseline} instead of the history's latest`)
    .option('--notify <url|env:NAME>', 'POST a summary when findings at --notify-on or above appear or resolve (repeatable; env:NAME reads a secret URL from the environment)', collectCommaList)
    .addOption(new Option('--notify-format <format>', 'json summary, or a Slack/Teams text message').choices(NOTIFY_FORMATS).default('json'))
    .addOption(new Option('--notify-on <severity>', 'lowest severity worth a notification').choices(['error', 'warning', 'notice']).default('error'))
    .option('--notify-required', `a notification that could not be delivered makes the exit code ${EXIT_NOTIFY_FAILED} (else it is only reported)`);
}

/** The flags checked, and the history folder proven writable: bad input is exit 2 before any packet. */
export async function openRunHistory(flags: HistoryFlags, env: Record<string, string | undefined>): Promise<RunHistory> {
  const keep = parseWholeNumber('--keep', flags.keep, KEEP_RANGE);
  const targets = (flags.notify ?? []).map((value) => parseNotifyTarget(value, env));
  if (flags.history !== undefined) await checkHistoryDir(flags.history);
  return {
    ...(flags.history === undefined ? {} : { dir: flags.history }),
    keep,
    ...(flags.baseline === undefined ? {} : { baseline: flags.baseline }),
    targets,
    format: flags.notifyFormat,
    level: flags.notifyOn,
    required: flags.notifyRequired === true,
  };
}

/**
 * The run to compare with: --baseline, else the history's latest (`inEntry` names the file inside
 * an audit's entry folder); undefined for a first run. Read before scanning: a bad one is exit 2.
 */
export async function readPreviousRun<Run>(history: RunHistory, inEntry: string | undefined, parse: (text: string, file: string) => Run | Promise<Run>): Promise<{ run: Run; source: string } | undefined> {
  const latest = history.baseline === undefined && history.dir !== undefined ? await readLatest(history.dir) : undefined;
  const file = history.baseline ?? (latest === undefined || inEntry === undefined ? latest : path.join(latest, inEntry));
  if (file === undefined) return undefined;
  return { run: await parse(await readResult(file), file), source: file };
}

/** Keeps a complete run in the history; returns the entry written, undefined when none (no --history, or an interrupted run). */
export async function keepRun(
  history: RunHistory,
  run: { startedAt: string; complete: boolean; extension?: string },
  write: (tempPath: string) => Promise<void>,
  log: (line: string) => void,
): Promise<string | undefined> {
  if (history.dir === undefined) return undefined;
  if (!run.complete) {
    log(`history: this run is incomplete: not kept in ${toTerminalText(history.dir)} (latest stays the last complete run)`);
    return undefined;
  }
  const entry = await publishRun(history.dir, entryName(run.startedAt, run.extension), history.keep, write);
  for (const removed of entry.removed) log(`history: removed ${toTerminalText(removed)} (--keep ${history.keep})`);
  return entry.path;
}

export interface RunToNotify {
  command: string;
  startedAt: string;
  complete: boolean;
  exitCode: number;
  /** This run, to say what appeared when there was no previous run (every finding is new). */
  current: DriftRun;
  /** The drift since the previous run, when there was one. */
  sincePrevious?: Drift;
  previous?: string;
  reports?: string;
}

/** Sends the summary when something at --notify-on or above appeared or resolved; logs each outcome; false when one was not delivered. */
export async function notifyRun(history: RunHistory, run: RunToNotify, log: (line: string) => void): Promise<boolean> {
  if (history.targets.length === 0) return true;
  if (!run.complete) {
    log('notify: this run is incomplete: no notification (ports it never reached are not resolved findings)');
    return true;
  }
  const since = run.sincePrevious ?? diffRuns({ startedAt: run.startedAt, matrices: [], hosts: [], findings: [], services: [] }, run.current);
  const summary = summarizeForNotification(since, {
    level: history.level,
    run: { command: run.command, startedAt: run.startedAt, exitCode: run.exitCode, ...(run.previous ? { previous: run.previous } : {}), ...(run.reports ? { reports: run.reports } : {}) },
  });
  if (!summary) {
    log(`notify: nothing at ${history.level} or above appeared or resolved: no notification`);
    return true;
  }
  const outcomes = await deliverAll(history.targets, renderNotification(summary, history.format));
  for (const outcome of outcomes) {
    log(
      outcome.delivered
        ? `notify: delivered to ${outcome.target} (HTTP ${outcome.status})`
        : `portmatrix: notify: not delivered to ${outcome.target} after ${outcome.attempts} attempt${outcome.attempts === 1 ? '' : 's'}: ${outcome.error} (the reports are written; check the webhook)`,
    );
  }
  return outcomes.every((outcome) => outcome.delivered);
}

/** The exit code once notified: EXIT_NOTIFY_FAILED replaces 0 or 1 when a required notification failed. */
export function exitCodeAfterNotify(history: RunHistory, exitCode: number, delivered: boolean): number {
  return !delivered && history.required && exitCode <= 1 ? EXIT_NOTIFY_FAILED : exitCode;
}
