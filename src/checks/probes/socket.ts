/**
 * The sockets of the service checks: a TCP connection or a TLS handshake with a deadline, and
 * bounded reads. Nothing here throws for a network outcome: failures come back as values.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';
import tls from 'node:tls';
import type { TlsVersion } from '../model.js';

export interface Endpoint {
  address: string;
  family: 4 | 6;
  port: number;
  /** The target name for SNI, when it is a name and not an address. */
  serverName?: string;
}

export type Opened<T> = { ok: true; socket: T } | { ok: false; error: string; refused: boolean };

/** Connects within timeoutMs; the socket comes back connected, or the reason it did not. */
export function openTcp(endpoint: Endpoint, timeoutMs: number, signal: AbortSignal): Promise<Opened<net.Socket>> {
  return settle(
    net.connect({ host: endpoint.address, port: endpoint.port, family: endpoint.family, noDelay: true }),
    'connect',
    timeoutMs,
    signal,
  );
}

export interface TlsOptions {
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
}

export type TlsOpened =
  | { ok: true; socket: tls.TLSSocket }
  | {
      ok: false;
      error: string;
      refused: boolean;
      /** The peer answered bytes that are not TLS (a plain-text service): worth asking it in plain text. */
      notTls: boolean;
    };

/** OpenSSL's words for "the first record was not TLS" (a plain-text server answered the ClientHello). */
const NOT_TLS_CODES = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST', 'ERR_SSL_RECORD_LAYER_FAILURE']);

/**
 * A TLS handshake that accepts whatever the server shows (an audit reads the certificate, it
 * does not trust it) and can speak TLS 1.0 and 1.1: OpenSSL's default security level refuses
 * them, and an audit must see that a server still offers them.
 */
export async function openTls(endpoint: Endpoint, options: TlsOptions, timeoutMs: number, signal: AbortSignal): Promise<TlsOpened> {
  const socket = tls.connect({
    host: endpoint.address,
    port: endpoint.port,
    ...(endpoint.serverName ? { servername: endpoint.serverName } : {}),
    rejectUnauthorized: false,
    minVersion: options.minVersion,
    maxVersion: options.maxVersion,
    ciphers: 'DEFAULT:@SECLEVEL=0',
  });
  const opened = await settle(socket, 'secureConnect', timeoutMs, signal);
  if (opened.ok) return opened;
  return { ...opened, notTls: NOT_TLS_CODES.has(opened.error.split(':')[0] ?? '') };
}

/** Resolves on the connect event, or on an error, the timeout or the abort (the socket is destroyed then). */
function settle<T extends net.Socket>(socket: T, event: 'connect' | 'secureConnect', timeoutMs: number, signal: AbortSignal): Promise<Opened<T>> {
  return new Promise((resolve) => {
    const finish = (outcome: Opened<T>): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.removeListener(event, onConnect);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      if (!outcome.ok) socket.destroy();
      resolve(outcome);
    };
    const onConnect = (): void => finish({ ok: true, socket });
    // OpenSSL errors carry a short `reason` ("wrong version number"); their message is a long trace.
    const onError = (error: NodeJS.ErrnoException & { reason?: string }): void =>
      finish({ ok: false, error: `${error.code ?? 'ERROR'}: ${error.reason ?? error.message.split('\n')[0] ?? ''}`, refused: error.code === 'ECONNREFUSED' });
    const onClose = (): void => finish({ ok: false, error: 'ECONNRESET: closed before the handshake finished', refused: false });
    const onAbort = (): void => finish({ ok: false, error: 'ABORTED: the run was interrupted', refused: false });
    const timer = setTimeout(() => finish({ ok: false, error: `ETIMEDOUT: no ${event === 'connect' ? 'connection' : 'TLS handshake'} within ${timeoutMs} ms`, refused: false }), timeoutMs);
    socket.once(event, onConnect);
    socket.once('error', onError);
    socket.once('close', onClose);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

export interface ReadOutcome {
  data: Buffer;
  /** The peer closed (or reset) the connection. */
  ended: boolean;
  timedOut: boolean;
}

/** Reads until `done(data)` says enough, maxBytes arrived, the peer closed, or timeoutMs passed. */
export function readFrom(socket: net.Socket, done: (data: Buffer) => boolean, options: { maxBytes: number; timeoutMs: number; signal: AbortSignal }): Promise<ReadOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (ended: boolean, timedOut: boolean): void => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.removeListener('error', onEnd);
      socket.pause();
      resolve({ data: Buffer.concat(chunks, size).subarray(0, options.maxBytes), ended, timedOut });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      const data = Buffer.concat(chunks, size);
      if (size >= options.maxBytes || done(data)) finish(false, false);
    };
    const onEnd = (): void => finish(true, false);
    const onAbort = (): void => finish(false, true);
    const timer = setTimeout(() => finish(false, true), options.timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onEnd);
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
    socket.resume();
  });
}

/** Writes and ignores the outcome: a peer that already closed is not our error. */
export function send(socket: net.Socket, data: Buffer | string): void {
  if (!socket.destroyed && socket.writable) socket.write(data, () => undefined);
}

/** Closes at once, without waiting for the peer: no service holds a session open for us. */
export function close(socket: net.Socket): void {
  socket.on('error', () => undefined);
  socket.destroy();
}

/** The first line (CR LF or LF ended) of what was read, or all of it when no line ended. */
export function firstLine(data: Buffer): string {
  const text = data.toString('latin1');
  const end = text.search(/\r?\n/);
  return end === -1 ? text : text.slice(0, end);
}

export function hasLineEnd(data: Buffer): boolean {
  return data.includes(0x0a);
}
