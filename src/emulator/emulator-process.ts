/**
 * The emulated target's listeners, run as a child process (inside the test host's namespace,
 * or on a loopback address). Reads one JSON line from stdin: { address, listeners }; opens every
 * listener it can and writes one JSON line to stdout: { bound, failed }. Exits when stdin closes
 * (the parent went away) or on SIGTERM, so it never outlives the run that started it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { createInterface } from 'node:readline';
import tls from 'node:tls';
import { PLAIN_OF_TLS, type EmulatedTcpService, type EmulatedUdpService } from './services.js';
import type { PlannedListener } from './target-plan.js';
import { replyTo } from './udp-responders.js';

export interface EmulatorProcessConfig {
  /** The scanned address (IPv4 or IPv6); "loopback-only" listeners bind 127.0.0.1 (::1) instead. */
  address: string;
  listeners: PlannedListener[];
  /** Bind loopback-only listeners (inside a namespace) or leave them out (on a shared loopback). */
  bindLoopbackOnly: boolean;
  /** Certificate and key (PEM) of the TLS services (src/emulator/certificate.ts). */
  tls?: { cert: string; key: string };
}

export interface EmulatorProcessReport {
  bound: { transport: 'tcp' | 'udp'; port: number; address: string }[];
  failed: { transport: 'tcp' | 'udp'; port: number; address: string; code: string }[];
}

const IDLE_CONNECTION_MS = 3_000;
const SSH_BANNER = 'SSH-2.0-OpenSSH_5.3 portmatrix-emulator\r\n';
const HTTP_RESPONSE = 'HTTP/1.1 200 OK\r\nServer: IP Office 9.1 (portmatrix emulator)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
/** Services that speak first: their greeting. */
const GREETINGS: Partial<Record<EmulatedTcpService, string>> = {
  ssh: SSH_BANNER,
  smtp: '220 ipoffice.emulated ESMTP portmatrix emulator\r\n',
  ftp: '220 portmatrix emulator FTP\r\n',
  imap: '* OK IMAP4rev1 portmatrix emulator ready\r\n',
  pop3: '+OK portmatrix emulator POP3 ready\r\n',
};
/** LDAP SearchResultDone (messageID 1, success): an anonymous rootDSE search gets an empty, successful answer. */
const LDAP_SEARCH_DONE = Buffer.from([0x30, 0x0c, 0x02, 0x01, 0x01, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]);

/** The plain-text protocol a service speaks (inside TLS for the TLS ones). */
function handlePlain(service: EmulatedTcpService, socket: net.Socket): void {
  const greeting = GREETINGS[service];
  if (greeting) socket.write(greeting);
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]).subarray(0, 8192);
    if (service === 'http') socket.end(HTTP_RESPONSE);
    else if (service === 'ldap') socket.end(LDAP_SEARCH_DONE);
    // SIP over a stream: one OPTIONS, answered like the UDP service, once its headers are in.
    else if (service === 'sip') {
      if (received.includes('\r\n\r\n')) socket.end(replyTo('sip', received));
    } else socket.end();
  });
}

function handleTcp(service: EmulatedTcpService, socket: net.Socket, secureContext: tls.SecureContext | undefined): void {
  socket.on('error', () => undefined);
  socket.setTimeout(IDLE_CONNECTION_MS, () => socket.destroy());
  const inner = PLAIN_OF_TLS[service];
  if (inner === undefined || !secureContext) {
    handlePlain(service, socket);
    return;
  }
  const tlsSocket = new tls.TLSSocket(socket, { isServer: true, secureContext });
  tlsSocket.on('error', () => socket.destroy());
  tlsSocket.once('secure', () => handlePlain(inner, tlsSocket));
}

function listenTcp(address: string, listener: PlannedListener, certificate: EmulatorProcessConfig['tls']): Promise<net.Server> {
  const { port } = listener;
  const service = listener.service as EmulatedTcpService;
  // TLS 1.0 alone needs OpenSSL's lowest security level, as real old firmware effectively has.
  const old = listener.tlsVersion ? { minVersion: listener.tlsVersion, maxVersion: listener.tlsVersion, ciphers: 'DEFAULT:@SECLEVEL=0' } : {};
  const secureContext = certificate && PLAIN_OF_TLS[service] !== undefined ? tls.createSecureContext({ ...certificate, ...old }) : undefined;
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => handleTcp(service, socket, secureContext));
    server.once('error', reject);
    server.listen({ host: address, port, backlog: 4096, exclusive: true }, () => {
      server.removeListener('error', reject);
      server.on('error', () => undefined);
      resolve(server);
    });
  });
}

function listenUdp(address: string, port: number, service: EmulatedUdpService, silent: boolean): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4' });
    socket.once('error', reject);
    socket.on('message', (message, remote) => {
      if (!silent) socket.send(replyTo(service, message), remote.port, remote.address);
    });
    socket.bind({ address, port, exclusive: true }, () => {
      socket.removeListener('error', reject);
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

async function openListeners(config: EmulatorProcessConfig): Promise<EmulatorProcessReport> {
  const report: EmulatorProcessReport = { bound: [], failed: [] };
  for (const listener of config.listeners) {
    if (listener.scope === 'loopback-only' && !config.bindLoopbackOnly) continue;
    const loopback = net.isIPv6(config.address) ? '::1' : '127.0.0.1';
    const address = listener.scope === 'external' ? config.address : loopback;
    try {
      if (listener.transport === 'tcp') await listenTcp(address, listener, config.tls);
      else await listenUdp(address, listener.port, listener.service as EmulatedUdpService, listener.silent === true);
      report.bound.push({ transport: listener.transport, port: listener.port, address });
    } catch (error) {
      report.failed.push({ transport: listener.transport, port: listener.port, address, code: (error as NodeJS.ErrnoException).code ?? 'ERROR' });
    }
  }
  return report;
}

async function main(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  let started = false;
  lines.on('line', (line) => {
    if (started) return;
    started = true;
    const config = JSON.parse(line) as EmulatorProcessConfig;
    void openListeners(config).then((report) => process.stdout.write(`${JSON.stringify(report)}\n`));
  });
  lines.on('close', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}

await main();
