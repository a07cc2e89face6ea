/**
 * Runs an audit: hosts concurrently under a global cap (p-limit), each host with its own run and
 * its profile's per-host caps; the sockets in flight of all hosts together stay within the
 * process's socket budget (each host's concurrency is cut to its share), and the ports all running
 * scans plan together within a memory budget (fewer hosts at once with --ports all). Matrices and policies
 * are checked before (the CLI loads each once), so a network outcome is a host's verdict, never
 * the audit's end; an abort stops new hosts from starting and lets running ones return what they
 * have, marked incomplete. Never prints.
 */
import pLimit from 'p-limit';
import { DEFAULT_PROFILE, PROFILES } from '../defaults.js';
import type { ScanResult } from '../result/model.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { AUDIT_SCHEMA_ID, AUDIT_SCHEMA_VERSION, type AuditHost, type AuditResult } from './model.js';
import type { PlannedHost } from './plan.js';
import type { Shard } from './shard.js';
import { combineExitCodes, findExpiringWaivers } from './verdict.js';

/** Runs one host (the library's run pipeline, in the CLI); maxConcurrency is this host's share of the socket budget. */
export type HostRunner = (host: PlannedHost, context: { maxConcurrency: number; signal: AbortSignal }) => Promise<{ result: ScanResult; exitCode: number }>;

export interface RunAuditOptions {
  hosts: readonly PlannedHost[];
  runHost: HostRunner;
  /** Hosts scanned at once. */
  parallel: number;
  /** Sockets the whole audit may hold (src/scan/fd-limit.ts socketBudget). */
  socketBudget: number;
  /** Planned ports scanned at once over all hosts (memory: AUDIT_PORTS_IN_FLIGHT). */
  portsInFlight: number;
  inventory: AuditResult['inventory'];
  shard?: Shard;
  sites?: string[];
  warnWaiverDays: number;
  signal?: AbortSignal;
  onHostDone?: (host: AuditHost, done: number, total: number) => void;
  now?: () => Date;
}

export async function runAudit(options: RunAuditOptions): Promise<AuditResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  // Memory bounds the hosts at once too: each running scan holds state for every planned port.
  const widest = Math.max(1, ...options.hosts.map((host) => host.ports));
  const parallel = Math.max(1, Math.min(options.parallel, options.hosts.length, Math.floor(options.portsInFlight / widest)));
  const share = Math.max(1, Math.floor(options.socketBudget / parallel));
  const limit = pLimit(parallel);
  const finished: AuditHost[] = [];
  try {
    await Promise.all(
      options.hosts.map((host) =>
        limit(async () => {
          if (controller.signal.aborted) return;
          const profileCap = PROFILES[host.settings.profile ?? DEFAULT_PROFILE].maxConcurrency;
          // Each host gets a signal of its own, linked to the audit's only while it runs: whatever a
          // scan hangs on its signal (abort listeners that hold the scan's state) goes with the host,
          // instead of piling up on one signal for the whole fleet.
          const hostController = new AbortController();
          const forward = (): void => hostController.abort(controller.signal.reason);
          controller.signal.addEventListener('abort', forward, { once: true });
          const { result, exitCode } = await options
            .runHost(host, { maxConcurrency: Math.min(profileCap, share), signal: hostController.signal })
            .finally(() => controller.signal.removeEventListener('abort', forward));
          const audited: AuditHost = {
            address: host.address,
            ...(host.name === undefined ? {} : { name: host.name }),
            ...(host.site === undefined ? {} : { site: host.site }),
            tags: host.tags,
            exitCode,
            result,
          };
          finished.push(audited);
          options.onHostDone?.(audited, finished.length, options.hosts.length);
        }),
      ),
    );
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  // Inventory order, whatever order the hosts finished in: the same audit gives the same file.
  const order = new Map(options.hosts.map((host, index) => [host.address, index]));
  const hosts = finished.sort((a, b) => order.get(a.address)! - order.get(b.address)!);
  const complete = hosts.length === options.hosts.length && hosts.every((host) => host.result.complete);
  return assembleAudit({
    startedAt: startedAt.toISOString(),
    finishedAt: now().toISOString(),
    complete,
    ...(complete ? {} : { incompleteReason: `${options.hosts.length - hosts.filter((host) => host.result.complete).length} of ${options.hosts.length} hosts not finished (interrupted)` }),
    inventory: options.inventory,
    ...(options.shard ? { shard: options.shard } : {}),
    ...(options.sites && options.sites.length > 0 ? { sites: options.sites } : {}),
    parameters: { parallel, requestedParallel: options.parallel, socketShare: share, warnWaiverDays: options.warnWaiverDays },
    hosts,
    now: now(),
  });
}

/** The audit result around its hosts: expiring waivers and the one exit code derived here, for runs and merges alike. */
export function assembleAudit(fields: Omit<AuditResult, 'schema' | 'schemaVersion' | 'tool' | 'expiringWaivers' | 'exitCode'> & { now: Date }): AuditResult {
  const { now, ...rest } = fields;
  const exitCodes = rest.hosts.map((host) => host.exitCode);
  return {
    schema: AUDIT_SCHEMA_ID,
    schemaVersion: AUDIT_SCHEMA_VERSION,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    ...rest,
    expiringWaivers: findExpiringWaivers(rest.hosts, now, rest.parameters.warnWaiverDays),
    exitCode: rest.complete ? combineExitCodes(exitCodes) : 130,
  };
}
