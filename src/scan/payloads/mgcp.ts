/** MGCP AuditEndpoint of the wildcard endpoint (RFC 3435): a gateway answers with a response line. */
import { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';
import { toBannerText, type DecodedReply, type UdpPayload } from './types.js';

function hostPart(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

export function buildMgcpAuditEndpoint(options: { transactionId: number; address: string }): Buffer {
  return Buffer.from(`AUEP ${options.transactionId} *@${hostPart(options.address)} MGCP 1.0\r\n`, 'ascii');
}

export interface MgcpLine {
  /** Response code, or null for a command. */
  code: number | null;
  verb: string | null;
  transactionId: number;
  text: string;
}

export function decodeMgcpLine(buffer: Buffer): MgcpLine | null {
  const line = buffer.toString('latin1').split(/\r?\n/)[0] ?? '';
  const response = /^(\d{3}) (\d{1,9})(?: (.*))?$/.exec(line);
  if (response) return { code: Number(response[1]), verb: null, transactionId: Number(response[2]), text: response[3] ?? '' };
  const command = /^([A-Z]{4}) (\d{1,9}) (\S+) MGCP 1\.0/.exec(line);
  if (command) return { code: null, verb: command[1] ?? null, transactionId: Number(command[2]), text: command[3] ?? '' };
  return null;
}

function decodeReply(reply: Buffer): DecodedReply | null {
  const line = decodeMgcpLine(reply);
  if (!line || line.code === null) return null;
  return { banner: toBannerText(`MGCP ${line.code} ${line.text}`) };
}

export const mgcpPayload: UdpPayload = {
  service: 'mgcp',
  build: (context) => [buildMgcpAuditEndpoint({ transactionId: randomInt(1, 1_000_000), address: context.address })],
  decode: decodeReply,
};
