/**
 * SIP OPTIONS on a stream (TCP, or TLS for SIPS): the same request the UDP probe sends, with
 * the Via naming the stream transport so the answer comes back on this connection. Every SIP
 * element must answer OPTIONS, without credentials (RFC 3261 11).
 */
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { buildSipOptions, sipPayload } from '../../scan/payloads/sip.js';
import type { ProbeContext } from '../../scan/payloads/types.js';
import { toUntrustedLine } from '../../util/untrusted-text.js';
import { MAX_BANNER_LENGTH, MAX_READ_BYTES, type AppAnswer } from './app.js';
import { recognizeGreeting } from './greeting.js';
import { firstLine, readFrom, send } from './socket.js';

export async function probeSip(socket: net.Socket, options: { tls: boolean; family: 4 | 6; timeoutMs: number; signal: AbortSignal }): Promise<AppAnswer> {
  const context: ProbeContext = {
    family: options.family,
    localAddress: socket.localAddress ?? '0.0.0.0',
    localPort: socket.localPort ?? 0,
    address: socket.remoteAddress ?? '',
    port: socket.remotePort ?? 0,
    snmpCommunity: '',
  };
  const ids = { branch: randomBytes(8).toString('hex'), tag: randomBytes(4).toString('hex'), callId: randomBytes(8).toString('hex') };
  const request = buildSipOptions(context, ids, options.tls ? 'TLS' : 'TCP');
  send(socket, request);
  const read = await readFrom(socket, (data) => data.includes('\r\n\r\n'), { maxBytes: MAX_READ_BYTES, timeoutMs: options.timeoutMs, signal: options.signal });
  if (read.data.length === 0) {
    return { status: 'silent', detail: read.timedOut ? `no answer to SIP OPTIONS within ${options.timeoutMs} ms` : 'closed the connection on SIP OPTIONS' };
  }
  const decoded = sipPayload.decode?.(read.data, context);
  if (decoded?.banner !== undefined) return { status: 'answered', banner: decoded.banner };
  const line = toUntrustedLine(firstLine(read.data), MAX_BANNER_LENGTH);
  const seen = recognizeGreeting(line);
  return { status: 'other', banner: line, detail: `expected a SIP response to OPTIONS, got ${seen ? `${seen}: ` : ''}"${line}"` };
}
