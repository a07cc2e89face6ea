/**
 * The emulated target's listeners, run as a child process (inside the test host's namespace,
 * or on a loopback address). Reads one JSON line from stdin: { address, listeners }; opens every
 * listener it can and writes one JSON line to stdout: { bound, failed }. Exits when stdin closes
 * (the parent went away) or on SIGTERM, so it never outlives the run that started it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { createInterface } from 'node:readline';
import type { PlannedListener, EmulatedTcpService, EmulatedUdpService } from './target-plan.js';
import { replyTo } from './udp-responders.js';

export interface EmulatorProcessConfig {
  /** The scanned address; "loopback-only" listeners bind 127.0.0.1 instead. */
  address: string;
  listeners: PlannedListener[];
  /** Bind loopback-only listeners (inside a namespace) or leave them out (on a shared loopback). */
  bindLoopbackOnly: boolean;
}

export interface EmulatorProcessReport {
  bound: { transport: 'tcp' | 'udp'; port: number; address: string }[];
  failed: { transport: 'tcp' | 'udp'; port: number; address: string; code: string }[];
}

const IDLE_CONNECTION_MS = 3_000;
const SSH_BANNER = 'SSH-2.0-OpenSSH_5.3 portmatrix-emulator\r\n';
const HTTP_RESPONSE = 'HTTP/1.1 200 OK\r\nServer: IP Office 9.1 (portmatrix emulator)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

function handleTcp(service: EmulatedTcpService, socket: net.Socket): void {
  socket.on('error', () => undefined);
  socket.setTimeout(IDLE_CONNECTION_MS, () => socket.destroy());
  if (service === 'ssh') socket.write(SSH_BANNER);
  socket.once('data', () => {
    if (service === 'http') socket.end(HTTP_RESPONSE);
    else socket.end();
  });
}

function listenTcp(address: string, port: number, service: EmulatedTcpService): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => handleTcp(service, socket));
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
    const socket = dgram.createSocket({ type: 'udp4' });
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
    const address = listener.scope === 'external' ? config.address : '127.0.0.1';
    try {
      if (listener.transport === 'tcp') await listenTcp(address, listener.port, listener.service as EmulatedTcpService);
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
