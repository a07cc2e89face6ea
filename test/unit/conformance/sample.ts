/**
 * A small IP Office-like selection and host scans built with the real types: one conformant
 * host, and one with a deviation of every kind. Used by the conformance and report tests, and
 * the source of fixtures/results/*.json (a test checks the files still match).
 */
import { checkConformance, checkHostStatus } from '../../../src/conformance/diff.js';
import type { Policy } from '../../../src/conformance/policy.js';
import type { FailOn } from '../../../src/conformance/model.js';
import type { Expectation } from '../../../src/matrix/expectation.js';
import { RESULT_SCHEMA_ID, RESULT_SCHEMA_VERSION } from '../../../src/result/model.js';
import type { ScanResult } from '../../../src/result/model.js';
import { foldObservations } from '../../../src/scan/fold.js';
import type { HostScan, Observation } from '../../../src/model/port-state.js';

export const NOW = new Date('2025-06-01T12:00:00Z');
const DOCUMENT = 'IP Office Platform 9.1 Port Matrix';
const TABLE = 'IP Office ports';

function expectation(
  rowId: string,
  row: string,
  fields: Partial<Expectation> & Pick<Expectation, 'transport' | 'start' | 'state' | 'protocol'>,
): Expectation {
  return {
    end: fields.start,
    optional: false,
    dynamic: false,
    internal: false,
    component: 'ip-office',
    description: '',
    ...fields,
    ref: { matrix: 'ip-office-9.1', document: DOCUMENT, rowId, table: fields.component === 'voicemail-pro' ? 'Voicemail Pro ports' : TABLE, row },
  };
}

export const EXPECTATIONS: Expectation[] = [
  expectation('ipo-http', '1', { transport: 'tcp', start: 80, state: 'open', protocol: 'HTTP' }),
  expectation('ipo-https', '2', { transport: 'tcp', start: 443, state: 'open', protocol: 'HTTPS' }),
  expectation('ipo-ftp', '3', { transport: 'tcp', start: 21, state: 'filtered', protocol: 'FTP' }),
  expectation('ipo-telnet', '4', { transport: 'tcp', start: 23, state: 'closed', optional: true, protocol: 'Telnet' }),
  expectation('ipo-sip', '5', { transport: 'udp', start: 5060, state: 'open', optional: true, protocol: 'SIP' }),
  expectation('ipo-sip', '5', { transport: 'tcp', start: 5060, state: 'open', optional: true, protocol: 'SIP' }),
  expectation('ipo-tftp', '6', { transport: 'udp', start: 69, state: 'open', protocol: 'TFTP' }),
  expectation('ipo-snmp', '7', { transport: 'udp', start: 161, state: 'open', optional: true, protocol: 'SNMP' }),
  expectation('ipo-status', '8', {
    transport: 'tcp',
    start: 50812,
    state: 'open',
    protocol: 'System Status',
    configurable: [{ start: 50800, end: 50899 }],
  }),
  expectation('ipo-ha', '9', { transport: 'tcp', start: 7070, state: { conditional: 'Open if HA', whenMet: 'open' }, protocol: 'HA sync' }),
  expectation('ipo-rtp', '10', { transport: 'udp', start: 40750, end: 50750, state: 'open', dynamic: true, protocol: 'RTP/RTCP' }),
  expectation('vmp-ipo', '1', { transport: 'tcp', start: 50791, state: 'open', internal: true, component: 'voicemail-pro', protocol: 'Voicemail Pro' }),
  expectation('vmp-web', '2', { transport: 'tcp', start: 5443, state: 'open', component: 'voicemail-pro', protocol: 'HTTPS (web services)' }),
];

function open(transport: 'tcp' | 'udp', port: number, banner?: string): Observation {
  return {
    transport,
    port,
    state: 'open',
    reason: transport === 'tcp' ? 'syn-ack' : 'udp-response',
    rttMs: 0.4,
    attempts: 1,
    ...(banner === undefined ? {} : { banner }),
  };
}
function filtered(transport: 'tcp' | 'udp', port: number): Observation {
  return { transport, port, state: 'filtered', reason: 'no-response', rttMs: null, attempts: 3 };
}
function noReply(port: number): Observation {
  return { transport: 'udp', port, state: 'open|filtered', reason: 'no-response', rttMs: null, attempts: 3 };
}
function closedUdp(port: number): Observation {
  return { transport: 'udp', port, state: 'closed', reason: 'icmp-port-unreach', rttMs: 0.3, attempts: 1 };
}

const UDP_PLAN = '69,161,5060,40750-50750';

function host(target: string, address: string, observations: Observation[]): HostScan {
  const tcpListed = observations.filter((observation) => observation.transport === 'tcp').length;
  const udpListed = observations.filter((observation) => observation.transport === 'udp').length;
  return {
    target,
    address,
    family: 4,
    name: target,
    plan: { tcp: '1-65535', udp: UDP_PLAN },
    observations: observations.sort((a, b) => a.transport.localeCompare(b.transport) || a.port - b.port),
    folded: [
      { transport: 'tcp', state: 'closed', reason: 'conn-refused', count: 65535 - tcpListed },
      { transport: 'udp', state: 'closed', reason: 'icmp-port-unreach', count: 3 + 10001 - udpListed },
    ],
    complete: true,
    status: { state: 'up', reason: 'port-answered' },
  };
}

/** Every documented listener up, every dark port dark. */
export function conformantHost(): HostScan {
  return host(
    'pbx-ok.example.test',
    '198.18.0.2',
    [open('tcp', 80), open('tcp', 443), filtered('tcp', 21), open('tcp', 5060), open('tcp', 5443), open('udp', 69), open('udp', 161), open('udp', 5060), open('tcp', 50812)],
  );
}

/**
 * A hardened host as the engine folds it (src/scan/fold.ts): every documented listener up,
 * tcp/23 answering RST (listed), everything else silently dropped (tcp) or admin-prohibited
 * (udp): the filtered ports are folded, so documented-filtered tcp/21 is only in a count.
 */
export function hardenedHost(): HostScan {
  const openPorts: Record<'tcp' | 'udp', Set<number>> = { tcp: new Set([80, 443, 5060, 5443, 50812]), udp: new Set([69, 161, 5060]) };
  const observations: Observation[] = [];
  for (let port = 1; port <= 65535; port++) {
    if (openPorts.tcp.has(port)) observations.push(open('tcp', port));
    else if (port === 23) observations.push({ transport: 'tcp', port, state: 'closed', reason: 'conn-refused', rttMs: 0.2, attempts: 1 });
    else observations.push(filtered('tcp', port));
  }
  for (const port of [69, 161, 5060, ...Array.from({ length: 10001 }, (_, index) => 40750 + index)]) {
    observations.push(openPorts.udp.has(port) ? open('udp', port) : { transport: 'udp', port, state: 'filtered', reason: 'icmp-admin-prohibited', rttMs: 0.3, attempts: 1 });
  }
  return { target: 'pbx-hardened.example.test', address: '198.18.0.10', family: 4, name: 'pbx-hardened.example.test', plan: { tcp: '1-65535', udp: UDP_PLAN }, ...foldObservations(observations), complete: true, status: { state: 'up', reason: 'port-answered' } };
}

export const SCRIPT_BANNER = '<script>document.title="pwned";window.__pwned=1</script>\u001b[31mred';

/** One deviation of every kind (see the comments), plus conformant ports. */
export function driftedHost(): HostScan {
  return host(
    'pbx-drift.example.test',
    '198.18.0.6',
    [
      open('tcp', 80), // conformant
      // tcp/443 folded closed: missing-listener
      open('tcp', 21, 'vsFTPd 3.0.3'), // filtered-port-reachable
      open('tcp', 23, SCRIPT_BANNER), // optional-listener-enabled, hostile banner
      open('tcp', 5060), // conformant
      open('tcp', 5443), // conformant
      open('tcp', 7070), // conditional: conformant either way
      open('tcp', 8080, `Server: <img src=x onerror="window.__pwned=2"> ${SCRIPT_BANNER}`), // extra-listener
      open('tcp', 50791), // internal-port-exposed
      open('tcp', 50813), // with 50812 dark: listener-moved
      open('udp', 69), // conformant
      noReply(161), // udp-unconfirmed
      closedUdp(5060), // optional-listener-disabled
      open('udp', 45000), // dynamic-port-open
    ],
  );
}

export function buildResult(options: { hosts: HostScan[]; policy?: Policy; strict?: boolean; failOn?: FailOn }): ScanResult {
  const findings = checkConformance({
    expectations: EXPECTATIONS,
    hosts: options.hosts,
    ...(options.policy ? { policy: options.policy } : {}),
    strict: options.strict ?? false,
    now: NOW,
  });
  return {
    schema: RESULT_SCHEMA_ID,
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'portmatrix', version: '0.1.0' },
    startedAt: '2025-06-01T11:58:00.000Z',
    finishedAt: '2025-06-01T11:59:41.250Z',
    complete: true,
    vantage: { hostname: 'audit-box', sourceAddresses: ['198.18.0.1'] },
    parameters: { profile: 'gentle', ports: '1-65535', udp: 'matrix', matrix: 'ip-office-9.1', strict: options.strict ?? false },
    hosts: options.hosts,
    conformance: {
      matrix: { id: 'ip-office-9.1', product: 'IP Office', version: '9.1', document: DOCUMENT },
      selection: { matrix: 'ip-office-9.1', components: ['ip-office', 'voicemail-pro'], platform: 'linux' },
      failOn: options.failOn ?? 'error',
      expectations: EXPECTATIONS,
      findings,
      hostFindings: checkHostStatus(options.hosts),
    },
  };
}

export const WAIVER_POLICY: Policy = {
  source: 'fixtures/policy/waivers.yaml',
  severities: {},
  conditions: [],
  waivers: [
    { ports: '8080', transport: 'tcp', host: 'pbx-*.example.test', reason: 'one-X Portal proxy, accepted by change board', ticket: 'CHG-1042', expires: '2025-12-31' },
    { ports: '21', reason: 'legacy FTP for phone firmware', ticket: 'CHG-0977', expires: '2025-01-31' },
  ],
};

/** The saved results under fixtures/results/, by file name. */
export function sampleResults(): Record<string, ScanResult> {
  return {
    'ip-office-conformant.json': buildResult({ hosts: [conformantHost()] }),
    'ip-office-drift.json': buildResult({ hosts: [driftedHost()] }),
    'ip-office-drift-waived.json': buildResult({ hosts: [driftedHost(), conformantHost()], policy: WAIVER_POLICY, failOn: 'warning' }),
  };
}
