/**
 * The audit's host runner: one host, one scan, one conformance check, as `portmatrix scan` does
 * it. Each distinct matrix selection and policy is loaded once, before any packet is sent.
 * This is the seam to the library's run pipeline: it shrinks to a call of run() when that lands.
 */
import type { PlannedHost } from '../audit/plan.js';
import type { HostRunner } from '../audit/run-audit.js';
import { DEFAULT_PROFILE, DEFAULT_SNMP_COMMUNITY, DEFAULT_UDP_CONFIRM } from '../defaults.js';
import { PortmatrixError } from '../errors.js';
import { formatPortSpec, normalizeRanges } from '../matrix/port-spec.js';
import { buildScanResult } from '../result/build.js';
import { scanHosts } from '../scan/engine.js';
import { readSoftFdLimit } from '../scan/fd-limit.js';
import { parsePortOption } from '../scan/port-plan.js';
import { decideScanType, detectPrivileges } from '../scan/privileges.js';
import { planUdpPorts } from '../scan/udp-plan.js';
import { findSourceAddress, readVantageHostname } from '../scan/vantage.js';
import { attachConformance, conformanceExitCode, prepareConformance, type ConformanceSetup } from './conformance-options.js';
import { documentedPorts, resolveCaps, type ScanCommandOptions } from './scan-command.js';

/** A user error about one host's settings, said with where the host is in the inventory. */
function locate(error: unknown, host: PlannedHost): unknown {
  if (!(error instanceof PortmatrixError)) return error;
  return new PortmatrixError(error.code, `inventory ${host.where}: ${error.message}`, { ...(error.hint ? { hint: error.hint } : {}), cause: error });
}

function selectionKey(host: PlannedHost): string {
  const { matrix, components, platform, policy, strict, failOn } = host.settings;
  return JSON.stringify([matrix, components, platform, policy, strict, failOn]);
}

/** Loads every selection the hosts need (bad input: exit 2 before any scanning) and returns the runner. */
export async function createHostRunner(hosts: readonly PlannedHost[]): Promise<HostRunner> {
  const setups = new Map<string, ConformanceSetup>();
  for (const host of hosts) {
    const key = selectionKey(host);
    if (setups.has(key)) continue;
    const { matrix, components, platform, policy, strict, failOn } = host.settings;
    setups.set(
      key,
      await prepareConformance({
        ...(matrix === undefined ? {} : { matrix }),
        ...(components ? { component: components } : {}),
        ...(platform === undefined ? {} : { platform }),
        ...(policy === undefined ? {} : { policy }),
        ...(strict === undefined ? {} : { strict }),
        ...(failOn === undefined ? {} : { failOn }),
      }).catch((error: unknown) => {
        throw locate(error, host);
      }),
    );
  }
  const privileges = detectPrivileges();
  const scanType = decideScanType({ request: 'auto', privileges });
  const privileged = privileges.capNetRaw && privileges.rawSocketModule;
  // Port plans are checked now too, for every host.
  const plans = new Map(
    hosts.map((host) => {
      const setup = setups.get(selectionKey(host))!;
      const expectations = setup.check?.expectations ?? [];
      try {
        const tcpPorts = parsePortOption(host.settings.ports ?? 'all', '--ports', documentedPorts(expectations, 'tcp'));
        const udpPorts = planUdpPorts(host.settings.udp ?? 'matrix', expectations);
        const { profile, caps } = resolveCaps({ profile: host.settings.profile ?? DEFAULT_PROFILE } as ScanCommandOptions);
        return [host, { setup, expectations, tcpPorts, udpPorts, profile, caps }] as const;
      } catch (error) {
        throw locate(error, host);
      }
    }),
  );

  return async (host, { maxConcurrency, signal }) => {
    const plan = plans.get(host)!;
    const caps = { ...plan.caps, maxConcurrency };
    const seed = Math.floor(Math.random() * 2 ** 32);
    const target = { target: host.address, address: host.address, family: host.family, ...(host.name === undefined ? {} : { name: host.name }) };
    const startedAt = new Date();
    const scan = await scanHosts(
      {
        targets: [target],
        tcpPorts: plan.tcpPorts,
        udpPorts: plan.udpPorts,
        caps,
        expectations: plan.expectations,
        snmpCommunity: DEFAULT_SNMP_COMMUNITY,
        privileged,
        seed,
        udpConfirm: DEFAULT_UDP_CONFIRM,
        tcpScanType: scanType.scanType,
      },
      { signal },
    );
    const source = await findSourceAddress(host.address, host.family);
    const built = buildScanResult({
      startedAt,
      finishedAt: new Date(),
      complete: scan.complete,
      ...(scan.complete ? {} : { incompleteReason: typeof signal.reason === 'string' ? signal.reason : 'interrupted' }),
      vantage: { hostname: readVantageHostname(), sourceAddresses: source === null ? [] : [source] },
      parameters: {
        command: 'audit',
        targets: [host.address],
        profile: plan.profile,
        caps,
        ports: formatPortSpec(plan.tcpPorts),
        udp: formatPortSpec(normalizeRanges(plan.udpPorts.map((port) => ({ start: port, end: port })))),
        seed,
        scanType: scanType.scanType,
        privileges,
        prober: scan.details.prober,
        effectiveTcpConcurrency: scan.details.effectiveTcpConcurrency,
        udpConcurrency: scan.details.udpConcurrency,
        udpScanned: plan.udpPorts.length > 0,
        udpConfirm: DEFAULT_UDP_CONFIRM,
        udpRawIcmp: privileged,
        fdSoftLimit: readSoftFdLimit(),
        tcpTiming: scan.details.tcp,
      },
      hosts: scan.hosts,
    });
    const result = attachConformance(plan.setup, built);
    return { result, exitCode: result.complete ? conformanceExitCode(plan.setup, result) : 130 };
  };
}
