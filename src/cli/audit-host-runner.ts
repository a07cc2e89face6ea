/**
 * The audit's host runner: one host is one run of the library pipeline (src/run.ts), with the
 * host's own matrix, selection, policy, ports and profile. Every host is prepared (matrix,
 * selection, policy and port plan checked) before any packet is sent; each distinct matrix and
 * policy file is read once.
 */
import type { PlannedHost } from '../audit/plan.js';
import type { ChecksMode } from '../checks/model.js';
import type { HostRunner } from '../audit/run-audit.js';
import type { Policy } from '../conformance/policy.js';
import type { Judge } from '../history/since-previous.js';
import { PortmatrixError } from '../errors.js';
import { loadMatrix, type LoadedMatrix } from '../matrix/load.js';
import { executeRun, prepareRun, type PreparedRun } from '../run.js';
import { readPolicyFile } from '../run/conformance-check.js';
import { parsePortSelection } from '../scan/port-plan.js';

/** A user error about one host's settings, said with where the host is in the inventory. */
function locate(error: unknown, host: PlannedHost): unknown {
  if (!(error instanceof PortmatrixError)) return error;
  return new PortmatrixError(error.code, `inventory ${host.where}: ${error.message}`, { ...(error.hint ? { hint: error.hint } : {}), cause: error });
}

/** Reads each file once however many hosts name it. */
function memoize<T>(read: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key) => {
    const cached = cache.get(key) ?? read(key);
    cache.set(key, cached);
    return cached;
  };
}

/** What the command line sets for every host, over the inventory. */
export interface HostRunnerOptions {
  /** audit --checks: the service checks of every host (else each host's inventory `checks:`, else scan's default). */
  checks?: ChecksMode;
}

async function prepareHost(
  host: PlannedHost,
  files: { matrix(ref: string): Promise<LoadedMatrix>; policy(file: string): Promise<Policy> },
  options: HostRunnerOptions,
): Promise<PreparedRun> {
  const { matrix, components, platform, policy, strict, failOn, ports, udp, profile } = host.settings;
  const checks = options.checks ?? host.settings.checks;
  return prepareRun({
    command: 'audit',
    ...(checks === undefined ? {} : { checks }),
    targets: [{ target: host.address, address: host.address, family: host.family, ...(host.name === undefined ? {} : { name: host.name }) }],
    ports: parsePortSelection(ports ?? 'all', '--ports'),
    udp: parsePortSelection(udp ?? 'matrix', '--udp'),
    ...(profile === undefined ? {} : { profile }),
    ...(matrix === undefined
      ? {}
      : {
          conformance: {
            matrix: await files.matrix(matrix),
            ...(components ? { components } : {}),
            ...(platform === undefined ? {} : { platform }),
            ...(policy === undefined ? {} : { policy: await files.policy(policy) }),
            ...(strict === undefined ? {} : { strict }),
            ...(failOn === undefined ? {} : { failOn }),
          },
        }),
  });
}

/** Prepares every host (bad input: exit 2 before any scanning) and returns the runner. */
/** The runner, and each host's conformance check (to judge its previous run again when the matrix changed). */
export async function createHostRunner(hosts: readonly PlannedHost[], options: HostRunnerOptions = {}): Promise<{ runHost: HostRunner; judgeOf: (address: string) => Judge | undefined }> {
  const files = { matrix: memoize(loadMatrix), policy: memoize(readPolicyFile) };
  const prepared = new Map<PlannedHost, PreparedRun>();
  for (const host of hosts) {
    prepared.set(
      host,
      await prepareHost(host, files, options).catch((error: unknown) => {
        throw locate(error, host);
      }),
    );
  }
  const byAddress = new Map([...prepared].map(([host, run]) => [host.address, run]));
  return {
    runHost: async (host, { maxConcurrency, signal }) => {
      const run = prepared.get(host)!;
      // The audit shares one socket budget among the hosts in flight: this host gets its part of it, its service checks too.
      const checkLimits = { ...run.checkLimits, concurrency: Math.min(run.checkLimits.concurrency, maxConcurrency) };
      return executeRun({ ...run, caps: { ...run.caps, maxConcurrency }, checkLimits }, { signal });
    },
    judgeOf: (address) => byAddress.get(address)?.check,
  };
}
