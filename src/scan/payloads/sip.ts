/** SIP OPTIONS (RFC 3261 11): every SIP element must answer it, even without credentials. */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { toBannerText, type DecodedReply, type ProbeContext, type UdpPayload } from './types.js';

function hostPart(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** viaTransport: UDP for the datagram probe; TCP or TLS when the service check sends it on a stream. */
export function buildSipOptions(context: ProbeContext, ids: { branch: string; tag: string; callId: string }, viaTransport: 'UDP' | 'TCP' | 'TLS' = 'UDP'): Buffer {
  const local = hostPart(context.localAddress);
  const target = `sip:${hostPart(context.address)}:${context.port}`;
  const lines = [
    `OPTIONS ${target} SIP/2.0`,
    `Via: SIP/2.0/${viaTransport} ${local}:${context.localPort};branch=z9hG4bK${ids.branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:portmatrix@${local}>;tag=${ids.tag}`,
    `To: <${target}>`,
    `Call-ID: ${ids.callId}@${local}`,
    'CSeq: 1 OPTIONS',
    `Contact: <sip:portmatrix@${local}:${context.localPort}>`,
    'Accept: application/sdp',
    'User-Agent: portmatrix',
    'Content-Length: 0',
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
}

export interface SipMessage {
  /** Request method, or null for a response. */
  method: string | null;
  statusCode: number | null;
  reason: string;
  headers: Map<string, string>;
}

export function decodeSipMessage(buffer: Buffer): SipMessage | null {
  const text = buffer.toString('utf8');
  const [first = '', ...rest] = text.split('\r\n\r\n')[0]?.split(/\r?\n/) ?? [];
  const headers = new Map<string, string>();
  for (const line of rest) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const response = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(first);
  if (response) return { method: null, statusCode: Number(response[1]), reason: response[2] ?? '', headers };
  const request = /^([A-Z]+) \S+ SIP\/2\.0$/.exec(first);
  if (request) return { method: request[1] ?? null, statusCode: null, reason: '', headers };
  return null;
}

function decodeReply(reply: Buffer): DecodedReply | null {
  const message = decodeSipMessage(reply);
  if (!message || message.statusCode === null) return null;
  const agent = message.headers.get('server') ?? message.headers.get('user-agent');
  const status = `SIP/2.0 ${message.statusCode} ${message.reason}`.trim();
  return { banner: toBannerText(agent ? `${status}; ${agent}` : status) };
}

export const sipPayload: UdpPayload = {
  service: 'sip',
  build: (context) => [
    buildSipOptions(context, {
      branch: randomBytes(8).toString('hex'),
      tag: randomBytes(4).toString('hex'),
      callId: randomBytes(8).toString('hex'),
    }),
  ],
  decode: decodeReply,
};
