/**
 * The audit's host runner: one host is one run of the library pipeline (src/run.ts), with the
 * host's own matrix, selection, policy, ports and profile. Every host is prepared (matrix,
 * selection, policy and port plan checked) before any packet is sent; each distinct matrix and
 * policy file is read once.
 */
import type { PlannedHost } from '../audit/plan.js';
import type { HostRunner } from '../audit/run-audit.js';
import type { Policy } from '../conformance/policy.js';
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

async function prepareHost(host: PlannedHost, files: { matrix(ref: string): Promise<LoadedMatrix>; policy(file: string): Promise<Policy> }): Promise<PreparedRun> {
  const { matrix, components, platform, policy, strict, failOn, ports, udp, profile } = host.settings;
  return prepareRun({
    command: 'audit',
    // As the audit ran before service checks joined the pipeline: a fleet run opts in with its issue.
    checks: 'none',
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
export async function createHostRunner(hosts: readonly PlannedHost[]): Promise<HostRunner> {
  const files = { matrix: memoize(loadMatrix), policy: memoize(readPolicyFile) };
  const prepared = new Map<PlannedHost, PreparedRun>();
  for (const host of hosts) {
    prepared.set(
      host,
      await prepareHost(host, files).catch((error: unknown) => {
        throw locate(error, host);
      }),
    );
  }
  return async (host, { maxConcurrency, signal }) => {
    const run = prepared.get(host)!;
    // The audit shares one socket budget among the hosts in flight: this host gets its part of it.
    return executeRun({ ...run, caps: { ...run.caps, maxConcurrency } }, { signal });
  };
}
