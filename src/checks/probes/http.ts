/**
 * One GET of / over a connection the check already opened (plain or TLS), through undici: the
 * status, a redirect's Location, the Server header. No redirect is followed, no credentials
 * are sent, and at most a small part of the body is read before the connection is closed.
 */
import type { Duplex } from 'node:stream';
import { toUntrustedLine } from '../../util/untrusted-text.js';
import { TOOL_NAME, TOOL_VERSION } from '../../version.js';
import type { HttpSeen } from '../model.js';
import { MAX_BANNER_LENGTH, MAX_READ_BYTES, type AppAnswer } from './app.js';

export interface HttpProbeOptions {
  tls: boolean;
  /** Host header: the target name, or the address (IPv6 in brackets). */
  authority: string;
  timeoutMs: number;
  signal: AbortSignal;
}

function header(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : toUntrustedLine(first, MAX_BANNER_LENGTH);
}

export async function probeHttp(socket: Duplex, options: HttpProbeOptions): Promise<AppAnswer> {
  // Loaded here, not at start-up: undici is a large module that a scan without HTTP checks never needs.
  const { Client } = await import('undici');
  const origin = `${options.tls ? 'https' : 'http'}://${options.authority}`;
  // undici speaks HTTP over the socket we opened: the connection count and the TLS details stay ours.
  const client = new Client(origin, {
    // Handed over on the next turn: undici's connect bookkeeping is not re-entrant.
    connect: (_options, callback) => {
      setImmediate(() => callback(null, socket as never));
    },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    pipelining: 1,
  });
  try {
    const response = await client.request({
      path: '/',
      method: 'GET',
      headers: { 'user-agent': `${TOOL_NAME}/${TOOL_VERSION} (service check)`, accept: '*/*', connection: 'close' },
      signal: options.signal,
    });
    await response.body.dump({ limit: MAX_READ_BYTES }).catch(() => undefined);
    const location = header(response.headers.location);
    const server = header(response.headers.server);
    const redirect = response.statusCode >= 300 && response.statusCode < 400 && location !== undefined;
    const http: HttpSeen = {
      status: response.statusCode,
      ...(redirect ? { location, redirectsToHttps: /^https:\/\//i.test(location) } : {}),
      ...(server === undefined ? {} : { server }),
    };
    return { status: 'answered', http, ...(server === undefined ? {} : { banner: server }) };
  } catch (error) {
    const failure = error as { code?: string; name?: string; cause?: { code?: string } };
    const code = failure.code ?? failure.cause?.code ?? failure.name ?? 'ERROR';
    // A reply that is not HTTP (undici: HPE_* parser errors) is another protocol; a closed or silent socket is nothing.
    const other = code.startsWith('HPE_') || failure.name === 'HTTPParserError';
    return { status: other ? 'other' : 'silent', detail: `no HTTP answer (${code})` };
  } finally {
    await client.destroy().catch(() => undefined);
  }
}
