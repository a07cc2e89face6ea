/**
 * Runs the planned service checks (src/checks/plan.ts) with the profile's limits: a few at once,
 * a deadline on every connection, every connection closed as soon as its exchange is done.
 * Only the planned (open, checked) ports are ever contacted. A check never throws for a network
 * outcome: whatever happened is in its ServiceCheck.
 */
import { getMaxListeners, setMaxListeners } from 'node:events';
import net from 'node:net';
import pLimit from 'p-limit';
import type { CheckLimits } from '../defaults.js';
import type { Expectation } from '../matrix/expectation.js';
import type { HostScan } from '../model/port-state.js';
import type { AppProtocol, ChecksMode, ChecksSection, ServiceCheck, TlsSeen } from './model.js';
import { planChecks, type PlannedCheck } from './plan.js';
import type { AppAnswer } from './probes/app.js';
import { probeGreeting } from './probes/greeting.js';
import { probeHttp } from './probes/http.js';
import { probeLdap } from './probes/ldap.js';
import { probeSip } from './probes/sip.js';
import { close, firstLine, hasLineEnd, openTcp, openTls, readFrom, type Endpoint } from './probes/socket.js';
import { describeSession, findLowerVersions } from './probes/tls.js';
import { recognizeGreeting } from './probes/greeting.js';
import { toUntrustedLine } from '../util/untrusted-text.js';
import { MAX_BANNER_LENGTH } from './probes/app.js';

export interface CheckServicesOptions {
  mode: ChecksMode;
  hosts: readonly HostScan[];
  expectations: readonly Expectation[];
  limits: CheckLimits;
  signal?: AbortSignal;
}

/** The service-check stage: plan (which open port gets which check) and run. */
export async function checkServices(options: CheckServicesOptions): Promise<ChecksSection> {
  const started = performance.now();
  const planned = planChecks({ mode: options.mode, hosts: options.hosts, expectations: options.expectations });
  const services = await runServiceChecks({ planned, limits: options.limits, ...(options.signal ? { signal: options.signal } : {}) });
  return { mode: options.mode, services, durationMs: Math.round(performance.now() - started) };
}

export interface RunChecksOptions {
  planned: readonly PlannedCheck[];
  limits: CheckLimits;
  signal?: AbortSignal;
}

export async function runServiceChecks(options: RunChecksOptions): Promise<ServiceCheck[]> {
  const limit = pLimit(Math.max(1, options.limits.concurrency));
  const signal = options.signal ?? new AbortController().signal;
  // Each running check waits on the signal once (connect, handshake or read): as many listeners as checks at once.
  setMaxListeners(Math.max(getMaxListeners(signal), options.limits.concurrency + 10), signal);
  return Promise.all(options.planned.map((planned) => limit(() => runCheck(planned, options.limits.timeoutMs, signal))));
}

const TLS_NAMES: Record<AppProtocol, string> = { http: 'https', sip: 'sips', ldap: 'ldaps', smtp: 'smtps', imap: 'imaps', pop3: 'pop3s', ftp: 'ftps', ssh: 'ssh in tls' };

/** The widest offer: an audit wants to see a server that still takes TLS 1.0. */
const WIDEST = { minVersion: 'TLSv1', maxVersion: 'TLSv1.3' } as const;

/** How long the --checks all probe waits for a service that speaks first before it calls the port silent. */
const PROBE_GREETING_MS = 1000;

interface Step {
  endpoint: Endpoint;
  authority: string;
  timeoutMs: number;
  signal: AbortSignal;
}

function runApp(app: AppProtocol, socket: net.Socket, tls: boolean, step: Step): Promise<AppAnswer> {
  const options = { timeoutMs: step.timeoutMs, signal: step.signal };
  switch (app) {
    case 'http':
      return probeHttp(socket, { tls, authority: step.authority, ...options });
    case 'sip':
      return probeSip(socket, { tls, family: step.endpoint.family, ...options });
    case 'ldap':
      return probeLdap(socket, options);
    default:
      return probeGreeting(socket, app, options);
  }
}

function answerFields(answer: AppAnswer): Pick<ServiceCheck, 'banner' | 'http' | 'detail'> {
  return {
    ...(answer.banner === undefined ? {} : { banner: answer.banner }),
    ...(answer.http ? { http: answer.http } : {}),
    ...(answer.detail === undefined ? {} : { detail: answer.detail }),
  };
}

/** One check of one port: the connections it made so far and what every step of it shares. */
interface CheckSession {
  planned: PlannedCheck;
  step: Step;
  serverName: string | undefined;
  started: number;
  connections: number;
}

type TlsTry = { ok: true; tls: TlsSeen; answer?: AppAnswer } | { ok: false; error: string; notTls: boolean; refused: boolean };
type TlsFailure = Extract<TlsTry, { ok: false }>;

function openSession(planned: PlannedCheck, timeoutMs: number, signal: AbortSignal): CheckSession {
  // SNI carries a host name only (never an address), and only one that is a plain DNS name.
  const serverName = planned.name !== undefined && net.isIP(planned.name) === 0 && /^[a-z0-9.-]+$/i.test(planned.name) ? planned.name : undefined;
  const endpoint: Endpoint = { address: planned.host, family: planned.family, port: planned.port, ...(serverName ? { serverName } : {}) };
  const step: Step = {
    endpoint,
    authority: `${serverName ?? (planned.family === 6 ? `[${planned.host}]` : planned.host)}:${planned.port}`,
    timeoutMs,
    signal,
  };
  return { planned, step, serverName, started: performance.now(), connections: 0 };
}

function finish(session: CheckSession, fields: Pick<ServiceCheck, 'outcome'> & Partial<ServiceCheck>): ServiceCheck {
  const { planned } = session;
  return {
    host: planned.host,
    ...(planned.name === undefined ? {} : { name: planned.name }),
    transport: 'tcp',
    port: planned.port,
    check: planned.spec.name,
    basis: planned.basis,
    rowIds: planned.rowIds,
    ...(planned.documentedProtocol === undefined ? {} : { documentedProtocol: planned.documentedProtocol }),
    ...fields,
    connections: session.connections,
    durationMs: Math.round((performance.now() - session.started) * 10) / 10,
  };
}

/** A TLS session on a fresh connection: what it shows, the app's answer inside it, and the lower versions it still takes. */
async function tryTls(session: CheckSession, app: AppProtocol | null): Promise<TlsTry> {
  const { endpoint, timeoutMs, signal } = session.step;
  session.connections += 1;
  const opened = await openTls(endpoint, WIDEST, timeoutMs, signal);
  if (!opened.ok) return opened;
  const tlsSession = describeSession(opened.socket, session.serverName, session.planned.host);
  const answer = app ? await runApp(app, opened.socket, true, session.step) : undefined;
  close(opened.socket);
  if (!tlsSession) return { ok: false, error: `unknown TLS version ${String(opened.socket.getProtocol())}`, notTls: false, refused: false };
  const lower = await findLowerVersions(endpoint, tlsSession.version, { timeoutMs, signal });
  session.connections += lower.connections;
  return { ok: true, tls: { ...tlsSession, versionsOffered: [...lower.versions, tlsSession.version] }, ...(answer ? { answer } : {}) };
}

/** The app in plain text on a fresh connection. */
async function tryPlain(session: CheckSession, app: AppProtocol): Promise<AppAnswer | { refused: boolean; error: string }> {
  const { endpoint, timeoutMs, signal } = session.step;
  session.connections += 1;
  const opened = await openTcp(endpoint, timeoutMs, signal);
  if (!opened.ok) return opened;
  const answer = await runApp(app, opened.socket, false, session.step);
  close(opened.socket);
  return answer;
}

async function runCheck(planned: PlannedCheck, timeoutMs: number, signal: AbortSignal): Promise<ServiceCheck> {
  const session = openSession(planned, timeoutMs, signal);
  const { app, tls } = planned.spec;
  if (tls === 'none' && app) return checkPlainService(session, app);
  const secure = await tryTls(session, app);
  if (secure.ok) return finishTls(session, app, secure);
  if (secure.refused) return finish(session, { outcome: 'no-answer', detail: `cannot connect: ${secure.error}` });
  const noTls = `no TLS handshake (${secure.error})`;
  if (app) return checkPlainAfterFailedTls(session, app, secure, noTls);
  if (tls === 'either') return readWhatComesFirst(session, noTls);
  return finish(session, { outcome: secure.notTls ? 'mismatch' : 'no-answer', detail: secure.notTls ? `answers, but not TLS (${secure.error})` : noTls });
}

/** A service documented in plain text: ask in plain text; if it does not answer so, one handshake says whether it is TLS. */
async function checkPlainService(session: CheckSession, app: AppProtocol): Promise<ServiceCheck> {
  const plain = await tryPlain(session, app);
  if (!('status' in plain)) return finish(session, { outcome: 'no-answer', detail: `cannot connect: ${plain.error}` });
  if (plain.status === 'answered') return finish(session, { outcome: 'answered', protocolSeen: session.planned.spec.name, ...answerFields(plain) });
  // Silent, or not the protocol: a TLS service would behave just so. One handshake says.
  const secure = await tryTls(session, app);
  if (secure.ok) {
    const seen = secure.answer?.status === 'answered' ? TLS_NAMES[app] : 'tls';
    return finish(session, {
      outcome: 'mismatch',
      protocolSeen: seen,
      tls: secure.tls,
      ...(secure.answer ? answerFields(secure.answer) : {}),
      detail: `documented plain ${app}, answers ${seen} (${secure.tls.version})`,
    });
  }
  return finish(session, { outcome: plain.status === 'other' ? 'mismatch' : 'no-answer', ...answerFields(plain) });
}

/** The handshake worked: the app's answer inside it (if any) decides the outcome. */
function finishTls(session: CheckSession, app: AppProtocol | null, secure: Extract<TlsTry, { ok: true }>): ServiceCheck {
  if (!secure.answer) return finish(session, { outcome: 'answered', protocolSeen: 'tls', tls: secure.tls });
  const answered = secure.answer.status === 'answered';
  return finish(session, {
    outcome: answered ? 'answered' : secure.answer.status === 'other' ? 'mismatch' : 'no-answer',
    protocolSeen: answered && app ? TLS_NAMES[app] : 'tls',
    tls: secure.tls,
    ...answerFields(secure.answer),
    ...(answered ? {} : { detail: `TLS ${secure.tls.version} handshake, then ${secure.answer.detail ?? 'no answer'}` }),
  });
}

/** TLS failed: ask in plain text, so the report can say what runs there instead. */
async function checkPlainAfterFailedTls(session: CheckSession, app: AppProtocol, secure: TlsFailure, noTls: string): Promise<ServiceCheck> {
  const plain = await tryPlain(session, app);
  if (!('status' in plain)) return finish(session, { outcome: 'no-answer', detail: `${noTls}; cannot connect again: ${plain.error}` });
  if (plain.status === 'answered') {
    if (session.planned.spec.tls === 'either') return finish(session, { outcome: 'answered', protocolSeen: app, ...answerFields(plain) });
    return finish(session, {
      outcome: 'mismatch',
      protocolSeen: app,
      ...answerFields(plain),
      detail: `documented ${session.planned.spec.name}, answers plain ${app} without TLS`,
    });
  }
  const outcome = plain.status === 'other' || secure.notTls ? 'mismatch' : 'no-answer';
  return finish(session, { outcome, ...answerFields(plain), detail: `${noTls}; ${plain.detail ?? 'no plain answer either'}` });
}

/** --checks all on a port we know nothing about, and not TLS: whatever it says first. */
async function readWhatComesFirst(session: CheckSession, noTls: string): Promise<ServiceCheck> {
  const { endpoint, timeoutMs, signal } = session.step;
  session.connections += 1;
  const opened = await openTcp(endpoint, timeoutMs, signal);
  if (!opened.ok) return finish(session, { outcome: 'no-answer', detail: `${noTls}; cannot connect again: ${opened.error}` });
  const waitMs = Math.min(timeoutMs, PROBE_GREETING_MS);
  const read = await readFrom(opened.socket, hasLineEnd, { maxBytes: 1024, timeoutMs: waitMs, signal });
  close(opened.socket);
  if (read.data.length === 0) return finish(session, { outcome: 'no-answer', detail: `not TLS, and sent nothing within ${waitMs} ms` });
  const line = toUntrustedLine(firstLine(read.data), MAX_BANNER_LENGTH);
  const seen = recognizeGreeting(line);
  return finish(session, { outcome: 'answered', ...(seen ? { protocolSeen: seen } : {}), banner: line });
}
