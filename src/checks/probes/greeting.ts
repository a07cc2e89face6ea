/**
 * Services that speak first: SSH sends its identification string (RFC 4253 4.2), SMTP and FTP a
 * 220 greeting, IMAP "* OK", POP3 "+OK". The probe reads the first line, says goodbye where the
 * protocol has a word for it, and closes. It sends no credentials and no other command.
 */
import type net from 'node:net';
import { toUntrustedLine } from '../../util/untrusted-text.js';
import type { AppProtocol } from '../model.js';
import { MAX_BANNER_LENGTH, type AppAnswer } from './app.js';
import { firstLine, hasLineEnd, readFrom, send } from './socket.js';

export type GreetingProtocol = Extract<AppProtocol, 'ssh' | 'smtp' | 'imap' | 'pop3' | 'ftp'>;

const GREETINGS: Record<GreetingProtocol, { pattern: RegExp; farewell?: string; what: string }> = {
  ssh: { pattern: /^SSH-\d+\.\d+-/, what: 'an SSH identification string' },
  smtp: { pattern: /^220[ -]/, farewell: 'QUIT\r\n', what: 'an SMTP 220 greeting' },
  imap: { pattern: /^\* (OK|PREAUTH)\b/i, farewell: 'a1 LOGOUT\r\n', what: 'an IMAP "* OK" greeting' },
  pop3: { pattern: /^\+OK\b/, farewell: 'QUIT\r\n', what: 'a POP3 "+OK" greeting' },
  ftp: { pattern: /^220[ -]/, farewell: 'QUIT\r\n', what: 'an FTP 220 greeting' },
};

/** What a first line looks like, for the report when it is not what was asked for. */
export function recognizeGreeting(line: string): string | undefined {
  if (/^SSH-/.test(line)) return 'ssh';
  if (/^HTTP\/\d/.test(line)) return 'http';
  if (/^SIP\/2\.0 /.test(line)) return 'sip';
  if (/^220[ -]/.test(line)) return 'smtp or ftp';
  if (/^\* (OK|PREAUTH)\b/i.test(line)) return 'imap';
  if (/^\+OK\b/.test(line)) return 'pop3';
  return undefined;
}

export async function probeGreeting(socket: net.Socket, protocol: GreetingProtocol, options: { timeoutMs: number; signal: AbortSignal }): Promise<AppAnswer> {
  const greeting = GREETINGS[protocol];
  // SSH servers may send other lines before the identification (RFC 4253 4.2): read on to the SSH- line.
  const done = protocol === 'ssh' ? (data: Buffer) => /(^|\n)SSH-[^\n]*\n/.test(data.toString('latin1')) : hasLineEnd;
  const read = await readFrom(socket, done, { maxBytes: 1024, timeoutMs: options.timeoutMs, signal: options.signal });
  const text = read.data.toString('latin1');
  const line = protocol === 'ssh' ? (/(?:^|\n)(SSH-[^\r\n]*)/.exec(text)?.[1] ?? firstLine(read.data)) : firstLine(read.data);
  if (read.data.length === 0) {
    return { status: 'silent', detail: read.timedOut ? `sent nothing within ${options.timeoutMs} ms` : 'closed the connection without a word' };
  }
  const banner = toUntrustedLine(line, MAX_BANNER_LENGTH);
  if (!greeting.pattern.test(line)) {
    const seen = recognizeGreeting(line);
    return { status: 'other', banner, detail: `expected ${greeting.what}, got ${seen ? `${seen}: ` : ''}"${banner}"` };
  }
  if (greeting.farewell) send(socket, greeting.farewell);
  return { status: 'answered', banner };
}
