import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDriftSpec, parseDriftSpec } from '../../src/emulator/drift.js';
import { startEmulator } from '../../src/emulator/emulator.js';
import type { RunningEmulator } from '../../src/emulator/emulator.js';
import { planTarget, truthOf } from '../../src/emulator/target-plan.js';
import { EMULATED_SYS_DESCR, replyDns, replyNtp, replySnmp, replyTo } from '../../src/emulator/udp-responders.js';
import { loadMatrix } from '../../src/matrix/load.js';
import { buildDnsQuery, decodeDnsMessage } from '../../src/scan/payloads/dns.js';
import { buildNtpRequest, decodeNtpPacket } from '../../src/scan/payloads/ntp.js';
import { buildSipOptions, decodeSipMessage } from '../../src/scan/payloads/sip.js';
import { buildSnmpGetRequest, decodeSnmpMessage, readSysDescr } from '../../src/scan/payloads/snmp.js';
import { buildTftpReadRequest, decodeTftpPacket } from '../../src/scan/payloads/tftp.js';
import { selectExpectations } from '../../src/matrix/select.js';
import type { PortState } from '../../src/model/port-state.js';
import { describeNetns } from '../helpers/netns.js';

const DRIFT = parseDriftSpec('extra:tcp/31337,extra:udp/31338,missing:tcp/22,toggle:tcp/80,expose:tcp/4444');
/** The kinds that need UDP or a firewall exception: silent responder, reachable filtered port, dynamic range. */
const UDP_DRIFT = parseDriftSpec('silent:udp/161,reach:tcp/4097,reach:udp/1719,extra:udp/45000,extra:udp/57000,extra:tcp/45000,missing:udp/69');

function tcpState(address: string, port: number, timeoutMs = 1_500): Promise<PortState> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('filtered');
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('open');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code === 'ECONNREFUSED' ? 'closed' : 'filtered');
    });
  });
}

/** One connected UDP exchange: the reply, 'closed' (ICMP port unreachable) or 'silent'. */
function udpExchange(address: string, port: number, payload: Buffer, timeoutMs = 1_500): Promise<Buffer | 'closed' | 'silent'> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const finish = (result: Buffer | 'closed' | 'silent'): void => {
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    const timer = setTimeout(() => finish('silent'), timeoutMs);
    socket.on('message', (message) => finish(message));
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code === 'ECONNREFUSED' ? 'closed' : 'silent'));
    socket.connect(port, address, () => socket.send(payload));
  });
}

// Probes written here from the RFCs, independently of the emulator's decoders.
function ber(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag, content.length]), content]);
}
const SNMP_GET_SYSDESCR = ber(
  0x30,
  Buffer.concat([
    ber(0x02, Buffer.from([1])),
    ber(0x04, Buffer.from('public')),
    ber(
      0xa0,
      Buffer.concat([
        ber(0x02, Buffer.from([0x12, 0x34])),
        ber(0x02, Buffer.from([0])),
        ber(0x02, Buffer.from([0])),
        ber(0x30, ber(0x30, Buffer.concat([ber(0x06, Buffer.from([0x2b, 6, 1, 2, 1, 1, 1, 0])), Buffer.from([0x05, 0x00])]))),
      ]),
    ),
  ]),
);
const SIP_OPTIONS = Buffer.from(
  'OPTIONS sip:probe@198.18.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-1\r\nFrom: <sip:scan@198.18.0.1>;tag=1\r\nTo: <sip:probe@198.18.0.2>\r\nCall-ID: abc@198.18.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
);
const NTP_CLIENT = Buffer.concat([Buffer.from([0x23]), Buffer.alloc(39), Buffer.from('12345678')]);
const TFTP_RRQ = Buffer.concat([Buffer.from([0, 1]), Buffer.from('no-such-file\0octet\0')]);

function runNmap(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('nmap', args, { timeout: 110_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`nmap failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** Port states from nmap's grepable output (-oG -), with the "Ignored State" applied to the rest. */
function parseGrepable(output: string): { ports: Map<number, PortState>; ignored: PortState | null } {
  const ports = new Map<number, PortState>();
  const line = output.split('\n').find((text) => text.includes('Ports: ')) ?? '';
  for (const entry of (/Ports: ([^\t]*)/.exec(line)?.[1] ?? '').split(', ').filter(Boolean)) {
    const [port, state] = entry.split('/');
    ports.set(Number(port), state as PortState);
  }
  const ignored = (/Ignored State: (\S+)/.exec(line)?.[1] ?? null) as PortState | null;
  return { ports, ignored };
}

describe('target plan (pure): the truth is what the plan configures', () => {
  it('maps documented states, drift and hardening to listeners, drops and truth', async () => {
    const { matrix } = await loadMatrix('ip-office-9.1');
    const { expectations } = selectExpectations(matrix);
    const plan = planTarget({ expectations, drift: DRIFT, hardened: true, firewall: true });
    const listening = new Set(plan.listeners.filter((l) => l.scope === 'external' && !l.silent).map((l) => `${l.transport}/${l.port}`));
    // Every external listener is open in the truth, and every open truth port has a listener.
    for (const transport of ['tcp', 'udp'] as const) {
      for (const [port, state] of Object.entries(plan.truth[transport])) {
        expect(state === 'open').toBe(listening.has(`${transport}/${port}`));
      }
    }
    expect(truthOf(plan.truth, 'tcp', 22)).toBe('closed'); // missing listener
    expect(truthOf(plan.truth, 'tcp', 80)).toBe('closed'); // optional, toggled off
    expect(truthOf(plan.truth, 'tcp', 4444)).toBe('open'); // internal, exposed
    expect(truthOf(plan.truth, 'tcp', 4443)).toBe('closed'); // internal, dark
    expect(truthOf(plan.truth, 'tcp', 1720)).toBe('filtered');
    expect(truthOf(plan.truth, 'udp', 1719)).toBe('open|filtered');
    expect(truthOf(plan.truth, 'tcp', 31337)).toBe('open');
    expect(truthOf(plan.truth, 'tcp', 12345)).toBe('filtered'); // hardened: undocumented dropped
    expect(truthOf(plan.truth, 'udp', 45000)).toBe('closed'); // documented dynamic range passes
    expect(plan.drop.tcp).toEqual([
      { start: 1720, end: 1720 },
      { start: 4097, end: 4097 },
    ]);
    expect(plan.deviations.map((d) => d.kind).sort()).toEqual(['extra-listener', 'extra-listener', 'internal-exposed', 'missing-listener', 'optional-toggled']);
    expect(() => planTarget({ expectations, drift: parseDriftSpec('extra:tcp/22'), firewall: true })).toThrow(/documented/);
    expect(() => planTarget({ expectations, drift: parseDriftSpec('toggle:tcp/8000'), firewall: true })).toThrow(/not optional/);
    expect(formatDriftSpec(UDP_DRIFT)).toBe('extra:udp/45000,extra:udp/57000,extra:tcp/45000,missing:udp/69,silent:udp/161,reach:tcp/4097,reach:udp/1719');
    expect(() => parseDriftSpec('mute:udp/161')).toThrow(/extra\|missing\|toggle\|expose\|silent\|reach/);
    const loopback = planTarget({ expectations, hardened: true, firewall: false });
    expect(truthOf(loopback.truth, 'tcp', 1720)).toBe('closed');
    expect(loopback.notEmulated.map((n) => n.port)).toEqual(expect.arrayContaining([1720, 4097, 1718, 1719]));
  });

  it('silent, reach and dynamic-range drift: listeners, drops, truth and deviations agree', async () => {
    const { matrix } = await loadMatrix('ip-office-9.1');
    const { expectations } = selectExpectations(matrix);
    for (const firewall of [true, false]) {
      const plan = planTarget({ expectations, drift: UDP_DRIFT, firewall });
      const listener = (transport: string, port: number) => plan.listeners.find((l) => l.transport === transport && l.port === port);
      expect(listener('udp', 161)).toMatchObject({ scope: 'external', service: 'snmp', silent: true });
      expect(truthOf(plan.truth, 'udp', 161)).toBe('open|filtered');
      expect(listener('udp', 123)?.silent).toBeUndefined();
      // A reachable filtered port needs no firewall: a listener and no drop.
      expect(listener('tcp', 4097)?.scope).toBe('external');
      expect(truthOf(plan.truth, 'tcp', 4097)).toBe('open');
      expect(truthOf(plan.truth, 'udp', 1719)).toBe('open');
      expect(plan.drop.tcp.some((range) => range.start <= 4097 && range.end >= 4097)).toBe(false);
      expect(plan.drop.udp).toEqual(firewall ? [{ start: 1718, end: 1718 }] : []);
      expect(truthOf(plan.truth, 'udp', 69)).toBe('closed');
      expect(truthOf(plan.truth, 'udp', 45000)).toBe('open');
      expect(plan.deviations.map((d) => `${d.kind} ${d.transport}/${d.port} ${d.documented} -> ${d.emulated}`).sort()).toEqual(
        [
          'dynamic-open udp/45000 dynamic range 40750-50750 -> open',
          'dynamic-open udp/57000 dynamic range 56000-58000 -> open',
          // The dynamic ranges are UDP media: a TCP listener there is an ordinary extra listener.
          'extra-listener tcp/45000 undocumented -> open',
          'missing-listener udp/69 open -> closed',
          'listener-silent udp/161 open -> open|filtered',
          'filtered-reachable tcp/4097 filtered -> open',
          'filtered-reachable udp/1719 filtered -> open',
        ].sort(),
      );
    }
    expect(() => planTarget({ expectations, drift: parseDriftSpec('silent:tcp/22'), firewall: true })).toThrow(/only a UDP listener/);
    expect(() => planTarget({ expectations, drift: parseDriftSpec('silent:udp/1701'), firewall: true })).toThrow(/cannot be silent/);
    expect(() => planTarget({ expectations, drift: parseDriftSpec('reach:tcp/22'), firewall: true })).toThrow(/cannot be a reachable filtered port/);
    expect(() => planTarget({ expectations, drift: parseDriftSpec('silent:udp/9999'), firewall: true })).toThrow(/not documented/);
  });

  it('UDP responders answer well-formed requests like the service, from independently built probes', () => {
    const snmp = replySnmp(SNMP_GET_SYSDESCR);
    expect(snmp?.[0]).toBe(0x30);
    expect(snmp?.includes(Buffer.from([0xa2]))).toBe(true);
    expect(snmp?.toString('latin1')).toContain(EMULATED_SYS_DESCR);
    expect(snmp?.includes(Buffer.from([0x02, 0x02, 0x12, 0x34]))).toBe(true); // request id echoed
    const ntp = replyNtp(NTP_CLIENT, Date.UTC(2026, 0, 1));
    expect((ntp?.[0] ?? 0) & 7).toBe(4);
    expect(ntp?.subarray(24, 32).toString()).toBe('12345678'); // origin = client transmit time
    const query = Buffer.from('abcd01000001000000000000076578616d706c6503636f6d0000010001', 'hex');
    const dns = replyDns(query);
    expect(dns?.readUInt16BE(0)).toBe(0xabcd);
    expect((dns?.[3] ?? 0) & 0x0f).toBe(3);
    expect(replySnmp(Buffer.from('not snmp'))).toBeNull();
  });
});

describe("the scanner's own UDP probes get replies its own decoders accept", () => {
  // Two independent implementations meet here: src/scan/payloads builds and decodes, the emulator answers.
  it('SNMP v1 and v2c, SIP OPTIONS, NTP, TFTP, DNS', () => {
    for (const version of ['v1', 'v2c'] as const) {
      const reply = decodeSnmpMessage(replyTo('snmp', buildSnmpGetRequest({ version, community: 'public', requestId: 4242 })));
      expect(reply?.requestId).toBe(4242);
      expect(reply && readSysDescr(reply)).toBe(EMULATED_SYS_DESCR);
    }
    const context = { family: 4 as const, localAddress: '198.18.0.1', localPort: 40000, address: '198.18.0.2', port: 5060, snmpCommunity: 'public' };
    const sip = decodeSipMessage(replyTo('sip', buildSipOptions(context, { branch: 'b1', tag: 't1', callId: 'c1' })));
    expect(sip?.statusCode).toBe(200);
    expect(sip?.headers.get('call-id')).toBe('c1@198.18.0.1');
    const transmit = Buffer.from('0123456789abcdef', 'hex');
    const ntp = decodeNtpPacket(replyTo('ntp', buildNtpRequest({ transmitTimestamp: transmit })));
    expect(ntp?.mode).toBe(4);
    expect(ntp?.originTimestamp.equals(transmit)).toBe(true);
    const tftp = decodeTftpPacket(replyTo('tftp', buildTftpReadRequest({ filename: 'portmatrix-probe' })));
    expect(tftp?.opcode).toBe('error');
    const dns = decodeDnsMessage(replyTo('dns', buildDnsQuery({ id: 777, name: 'version.bind' })));
    expect(dns?.id).toBe(777);
    expect(dns?.isResponse).toBe(true);
  });
});

describe('emulator on loopback (no root needed)', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator({ matrix: 'ip-office-9.1', mode: 'loopback', drift: DRIFT, bindAddress: `127.78.${process.pid & 255}.9` });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('every configured TCP port answers as the truth says; filtered ports are reported as not emulated', async () => {
    expect(emulator.address).toMatch(/^127\./);
    const ports = Object.keys(emulator.truth.tcp).map(Number);
    expect(ports.length).toBeGreaterThan(20);
    for (const port of ports) expect([port, await tcpState(emulator.address, port)]).toEqual([port, truthOf(emulator.truth, 'tcp', port)]);
    expect(emulator.notEmulated.some((entry) => entry.port === 1720 && /firewall/.test(entry.reason))).toBe(true);
  });

  it('stop() closes every listener', async () => {
    const probe = await startEmulator({ matrix: 'ip-office-9.1', mode: 'loopback', bindAddress: `127.78.${process.pid & 255}.10` });
    expect(await tcpState(probe.address, 50793)).toBe('open');
    await probe.stop();
    expect(await tcpState(probe.address, 50793)).toBe('closed');
  });
});

describeNetns('emulator in a network namespace', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator({ matrix: 'ip-office-9.1', drift: DRIFT });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('nmap -sT -p- sees exactly the truth on all 65535 TCP ports', async () => {
    expect(emulator.mode).toBe('namespace');
    const { ports, ignored } = parseGrepable(await runNmap(['-sT', '-p-', '-T4', '-n', '-Pn', '-oG', '-', emulator.address]));
    expect(ignored).toBe('closed');
    const mismatches: string[] = [];
    for (let port = 1; port <= 65535; port += 1) {
      const seen = ports.get(port) ?? ignored;
      const expected = truthOf(emulator.truth, 'tcp', port);
      if (seen !== expected) mismatches.push(`${port}: nmap ${seen}, truth ${expected}`);
    }
    expect(mismatches).toEqual([]);
    expect(ports.get(31337)).toBe('open');
    expect(ports.get(1720)).toBe('filtered');
  });

  it('UDP: services answer their protocol, closed ports send ICMP unreachable, filtered ports are silent', async () => {
    const snmp = await udpExchange(emulator.address, 161, SNMP_GET_SYSDESCR);
    expect(Buffer.isBuffer(snmp) && snmp.toString('latin1').includes(EMULATED_SYS_DESCR)).toBe(true);
    const sip = await udpExchange(emulator.address, 5060, SIP_OPTIONS);
    expect(Buffer.isBuffer(sip) && sip.toString().startsWith('SIP/2.0 200 OK')).toBe(true);
    expect(Buffer.isBuffer(sip) && sip.toString().includes('Call-ID: abc@198.18.0.1')).toBe(true);
    const ntp = await udpExchange(emulator.address, 123, NTP_CLIENT);
    expect(Buffer.isBuffer(ntp) && ((ntp[0] ?? 0) & 7) === 4).toBe(true);
    const tftp = await udpExchange(emulator.address, 69, TFTP_RRQ);
    expect(Buffer.isBuffer(tftp) && tftp.readUInt16BE(0) === 5).toBe(true);
    const extra = await udpExchange(emulator.address, 31338, Buffer.alloc(0));
    expect(Buffer.isBuffer(extra)).toBe(true);
    expect(truthOf(emulator.truth, 'udp', 1701)).toBe('closed');
    expect(await udpExchange(emulator.address, 1701, Buffer.from('x'))).toBe('closed');
    expect(truthOf(emulator.truth, 'udp', 1719)).toBe('open|filtered');
    expect(await udpExchange(emulator.address, 1719, Buffer.from('x'))).toBe('silent');
  });

  it('silent, reach and dynamic-range drift on a real target: every affected port behaves as the truth says', async () => {
    const drifted = await startEmulator({ matrix: 'ip-office-9.1', drift: UDP_DRIFT });
    try {
      const silent = await udpExchange(drifted.address, 161, SNMP_GET_SYSDESCR);
      expect(silent).toBe('silent'); // bound: no reply and no ICMP port unreachable
      expect(truthOf(drifted.truth, 'udp', 161)).toBe('open|filtered');
      expect(Buffer.isBuffer(await udpExchange(drifted.address, 1719, Buffer.from('x')))).toBe(true);
      expect(Buffer.isBuffer(await udpExchange(drifted.address, 45000, Buffer.from('x')))).toBe(true);
      expect(await udpExchange(drifted.address, 69, TFTP_RRQ)).toBe('closed');
      expect(await udpExchange(drifted.address, 1718, Buffer.from('x'))).toBe('silent'); // still dropped
      for (const port of [4097, 45000, 1720]) expect([port, await tcpState(drifted.address, port)]).toEqual([port, truthOf(drifted.truth, 'tcp', port)]);
      expect(truthOf(drifted.truth, 'tcp', 4097)).toBe('open');
    } finally {
      await drifted.stop();
    }
  });

  it('hardened: undocumented ports are dropped, documented ones still answer', async () => {
    const hardened = await startEmulator({ matrix: 'ip-office-9.1', hardened: true, drift: parseDriftSpec('extra:tcp/31337') });
    try {
      const sample = [1, 21, 23, 3389, 12345, 31336, 65535];
      const documented = [8000, 50814, 52233, 1720, 31337, 4443];
      const results = await Promise.all([...sample, ...documented].map(async (port) => [port, await tcpState(hardened.address, port)] as const));
      for (const [port, state] of results) expect([port, state]).toEqual([port, truthOf(hardened.truth, 'tcp', port)]);
      expect(truthOf(hardened.truth, 'tcp', 12345)).toBe('filtered');
      expect(truthOf(hardened.truth, 'tcp', 52233)).toBe('closed');
      expect(await udpExchange(hardened.address, 9999, Buffer.from('x'), 1_000)).toBe('silent');
    } finally {
      await hardened.stop();
    }
    await expect(hardened.host?.exec(['true'])).rejects.toThrow(/destroyed/);
  });
}, ['nmap']);
