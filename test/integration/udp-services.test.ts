/**
 * The payloads against real servers on loopback (unprivileged ports, stopped after the test):
 * snmpd answers sysDescr, dnsmasq answers DNS and TFTP (the error comes from a new port),
 * chrony answers NTP, kamailio answers SIP OPTIONS, xl2tpd answers the L2TP SCCRQ.
 * A server whose Debian package is missing is skipped and named in the summary (npm run test:deps installs them all).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILES } from '../../src/defaults.js';
import type { Expectation } from '../../src/matrix/expectation.js';
import type { Observation } from '../../src/model/port-state.js';
import { udpPortHints } from '../../src/matrix/documented-ports.js';
import { scanUdp } from '../../src/scan/probes/udp.js';
import { itNeeding } from '../helpers/requirements.js';
import { planUdpProbes } from '../../src/scan/udp-plan.js';

const KAMAILIO_MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules';
const START_TIMEOUT_MS = 8_000;
/** Loopback answers in microseconds: short timeouts keep the polling for a starting server quick. */
const CAPS = { ...PROFILES.gentle, initialRttTimeoutMs: 300, maxRttTimeoutMs: 600 };
// A loopback address of our own: dnsmasq serves TFTP on port 69 only.
const DNSMASQ_ADDRESS = `127.5.${process.pid % 250}.1`;

async function freeUdpPort(address: string): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function row(port: number, protocol: string): Expectation {
  return {
    transport: 'udp', start: port, end: port, dynamic: false, state: 'open', optional: false, internal: false, protocol, component: 'test',
    description: '', ref: { matrix: 'test', document: 'test', rowId: String(port), table: 't', row: '1' },
  };
}

const children: ChildProcess[] = [];
let workDir = '';

function startServer(argv: string[]): void {
  const [command = '', ...args] = argv;
  const child = spawn(command, args, { stdio: 'ignore' });
  child.on('error', () => undefined);
  children.push(child);
}

/** Probes until the server answers (it needs a moment to bind), bounded in time. */
async function probeUntilOpen(address: string, port: number, protocol: string): Promise<Observation | undefined> {
  const deadline = performance.now() + START_TIMEOUT_MS;
  let observation: Observation | undefined;
  while (performance.now() < deadline) {
    [observation] = await scanUdp({ address, family: 4, plan: planUdpProbes([port], udpPortHints([row(port, protocol)], [port])), caps: CAPS, snmpCommunity: 'public' });
    if (observation?.state === 'open') return observation;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return observation;
}

beforeAll(() => {
  workDir = mkdtempSync(path.join(tmpdir(), 'portmatrix-udp-services-'));
  // dnsmasq drops root and must still reach its TFTP root.
  chmodSync(workDir, 0o755);
});

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('exit', resolve)) : null)));
  rmSync(workDir, { recursive: true, force: true });
});

describe('UDP payloads against real servers on loopback', () => {
  itNeeding('snmpd: the v1/v2c GetRequest gets sysDescr back, with the configured community', { tools: ['snmpd'] }, async () => {
    const port = await freeUdpPort('127.0.0.1');
    const config = path.join(workDir, 'snmpd.conf');
    writeFileSync(config, 'rocommunity pm-c0mmunity 127.0.0.1\nsysdescr portmatrix test agent 7.4\n');
    startServer(['snmpd', '-f', '-Lo', '-C', '-c', config, '-p', path.join(workDir, 'snmpd.pid'), `udp:127.0.0.1:${port}`]);
    const [observation] = await (async () => {
      await probeUntilOpenWithCommunity(port, 'pm-c0mmunity');
      return scanUdp({ address: '127.0.0.1', family: 4, plan: planUdpProbes([port], udpPortHints([row(port, 'UDP/SNMP')], [port])), caps: CAPS, snmpCommunity: 'pm-c0mmunity' });
    })();
    expect(observation).toMatchObject({ state: 'open', reason: 'udp-response', service: 'snmp', banner: 'portmatrix test agent 7.4' });
    // net-snmp drops a request with a wrong community: no reply, no ICMP.
    const [wrong] = await scanUdp({ address: '127.0.0.1', family: 4, plan: planUdpProbes([port], udpPortHints([row(port, 'UDP/SNMP')], [port])), caps: CAPS, snmpCommunity: 'public' });
    expect(wrong?.state).toBe('open|filtered');
  });

  itNeeding('dnsmasq: DNS version.bind and a TFTP error from the transfer port are replies', { tools: ['dnsmasq'] }, async () => {
    const dnsPort = await freeUdpPort('127.0.0.1');
    const tftpRoot = path.join(workDir, 'tftp');
    mkdirSync(tftpRoot);
    startServer([
      'dnsmasq', '-k', '--conf-file=/dev/null', `--port=${dnsPort}`, `--listen-address=${DNSMASQ_ADDRESS}`, '--bind-interfaces',
      '--enable-tftp', `--tftp-root=${tftpRoot}`, `--pid-file=${path.join(workDir, 'dnsmasq.pid')}`,
    ]);
    const dns = await probeUntilOpen(DNSMASQ_ADDRESS, dnsPort, 'UDP/DNS');
    expect(dns).toMatchObject({ state: 'open', service: 'dns' });
    expect(dns?.banner).toMatch(/^DNS dnsmasq-\d/);
    const tftp = await probeUntilOpen(DNSMASQ_ADDRESS, 69, 'UDP/TFTP');
    expect(tftp).toMatchObject({ state: 'open', service: 'tftp' });
    expect(tftp?.banner).toMatch(/^TFTP error \d+: .*not found/);
  });

  itNeeding('chrony: the NTP client request gets a server reply', { tools: ['chronyd'] }, async () => {
    const port = await freeUdpPort('127.0.0.1');
    const config = path.join(workDir, 'chrony.conf');
    writeFileSync(config, `port ${port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 8\ncmdport 0\npidfile ${path.join(workDir, 'chronyd.pid')}\n`);
    startServer(['chronyd', '-d', '-x', '-u', 'root', '-f', config]);
    expect(await probeUntilOpen('127.0.0.1', port, 'NTP')).toMatchObject({ state: 'open', service: 'ntp', banner: 'NTPv4 server, stratum 8' });
  });

  itNeeding('kamailio: SIP OPTIONS gets 200 OK with the Server header', { tools: ['kamailio'] }, async () => {
    const port = await freeUdpPort('127.0.0.1');
    const config = path.join(workDir, 'kamailio.cfg');
    writeFileSync(
      config,
      `#!KAMAILIO\ndebug=0\nlog_stderror=yes\nchildren=1\nlisten=udp:127.0.0.1:${port}\nmpath="${KAMAILIO_MODULES}/"\nloadmodule "sl.so"\n` +
        'request_route {\n  if (method == "OPTIONS") { sl_send_reply("200", "OK"); }\n  exit;\n}\n',
    );
    startServer(['kamailio', '-f', config, '-DD', '-E', '-m', '16', '-M', '4', '-P', path.join(workDir, 'kamailio.pid')]);
    const observation = await probeUntilOpen('127.0.0.1', port, 'UDP+TCP+TLS/SIP');
    expect(observation).toMatchObject({ state: 'open', service: 'sip' });
    expect(observation?.banner).toMatch(/^SIP\/2\.0 200 OK; kamailio/);
  });

  itNeeding('xl2tpd: the SCCRQ gets an SCCRP (and the prober closes the tunnel with StopCCN)', { tools: ['xl2tpd'] }, async () => {
    const port = await freeUdpPort('127.0.0.1');
    const config = path.join(workDir, 'xl2tpd.conf');
    writeFileSync(config, `[global]\nport = ${port}\nlisten-addr = 127.0.0.1\n[lns default]\nip range = 10.99.0.2-10.99.0.10\nlocal ip = 10.99.0.1\n`);
    startServer(['xl2tpd', '-D', '-c', config, '-p', path.join(workDir, 'xl2tpd.pid'), '-C', path.join(workDir, 'l2tp-control')]);
    const observation = await probeUntilOpen('127.0.0.1', port, 'UDP/L2TP');
    expect(observation).toMatchObject({ state: 'open', service: 'l2tp' });
    expect(observation?.banner).toMatch(/^L2TP SCCRP/);
  });
});

async function probeUntilOpenWithCommunity(port: number, community: string): Promise<void> {
  const deadline = performance.now() + START_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const [observation] = await scanUdp({ address: '127.0.0.1', family: 4, plan: planUdpProbes([port]), caps: CAPS, snmpCommunity: community });
    if (observation?.state === 'open') return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
