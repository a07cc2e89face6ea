/**
 * Notifications against real HTTP servers on 127.0.0.1: a webhook that answers 200, one that
 * answers 500 (retried with backoff, then reported), one that never answers (timed out), and a
 * closed port (refused). Secrets in URLs never appear in what is shown.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverAll, parseNotifyTarget } from '../../src/notify/send.js';
import { renderNotification, summarizeForNotification } from '../../src/notify/summary.js';
import { diffResults } from '../../src/conformance/drift.js';
import { buildResult, conformantHost, driftedHost } from '../unit/conformance/sample.js';

interface Received {
  server: string;
  path: string;
  body: string;
}

const received: Received[] = [];
const servers: Server[] = [];
const hanging = new Set<IncomingMessage>();

async function listen(name: string, handler: (request: IncomingMessage, body: string) => number | null): Promise<string> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ server: name, path: request.url ?? '', body });
      const status = handler(request, body);
      if (status === null) hanging.add(request);
      else response.writeHead(status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let ok = '';
let failing = '';
let hang = '';
let refused = '';
/** Generous for webhooks that answer (a loaded machine is slow), short only where nothing will answer. */
const PATIENT = { timeoutMs: 10_000, attempts: 3, backoffMs: 50 };
const SHORT = { timeoutMs: 300, attempts: 2, backoffMs: 50 };

beforeAll(async () => {
  ok = await listen('ok', () => 200);
  failing = await listen('failing', () => 500);
  hang = await listen('hang', () => null);
  refused = `http://127.0.0.1:${await closedPort()}`;
});

afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

const summary = summarizeForNotification(
  diffResults(buildResult({ hosts: [conformantHost()] }), buildResult({ hosts: [{ ...driftedHost(), target: conformantHost().target, address: conformantHost().address }] })),
  { level: 'error', run: { command: 'audit', startedAt: '2025-06-01T12:00:00.000Z', exitCode: 1 } },
)!;

describe('notifications', () => {
  it('say what appeared at the level asked for, in JSON and as Slack/Teams text', () => {
    expect(summary.appeared.map((change) => `${change.kind} ${change.port}`).sort()).toEqual(['extra-listener tcp/8080', 'missing-listener tcp/443']);
    expect(JSON.parse(renderNotification(summary, 'json'))).toMatchObject({ schema: 'portmatrix/notification', level: 'error' });
    expect(JSON.parse(renderNotification(summary, 'slack')).text).toMatch(/^portmatrix audit .*: 2 findings at error or above appeared, 0 resolved/);
    // Nothing at the level: nothing to send.
    const quiet = diffResults(buildResult({ hosts: [conformantHost()] }), buildResult({ hosts: [conformantHost()] }));
    expect(summarizeForNotification(quiet, { level: 'notice', run: summary.run })).toBeNull();
  });

  it('are delivered to a webhook that answers 200, reported for 500 after retries with backoff, for a hang as a timeout, for a closed port as refused', async () => {
    const secret = '/services/T000/B000/very-secret-token';
    const targets = [`${ok}${secret}`, `${failing}/hook`, `${hang}/hook`, `${refused}/hook`].map((url) => parseNotifyTarget(url, {}));
    const body = renderNotification(summary, 'json');
    const [toOk, toFailing, toRefused] = await deliverAll([targets[0]!, targets[1]!, targets[3]!], body, PATIENT);
    const [toHang] = await deliverAll([targets[2]!], body, SHORT);
    const outcomes = [toOk!, toFailing!, toHang!, toRefused!];
    expect(outcomes.map((outcome) => [outcome.delivered, outcome.attempts, outcome.status ?? outcome.error])).toEqual([
      [true, 1, 200],
      [false, 3, 500],
      [false, 2, 'timed out after 300 ms'],
      [false, 3, 'ECONNREFUSED'],
    ]);
    expect(received.filter((request) => request.server === 'ok').map((request) => [request.path, request.body])).toEqual([[secret, body]]);
    // A 500 is retried (3 attempts in all); each attempt carries the whole body.
    expect(received.filter((request) => request.server === 'failing').map((request) => request.body)).toEqual([body, body, body]);
    // What is shown never carries the path (where webhook tokens live).
    expect(JSON.stringify(outcomes)).not.toContain('very-secret-token');
    expect(outcomes[0]!.target).toBe(`${ok}/…`);
  });

  it('read a secret URL from the environment and refuse what is not a URL without echoing it', () => {
    expect(parseNotifyTarget('env:HOOK', { HOOK: `${ok}/secret` })).toEqual({ url: `${ok}/secret`, shown: `env:HOOK (${ok}/…)` });
    expect(() => parseNotifyTarget('env:MISSING', {})).toThrow('--notify env:MISSING: the environment variable MISSING is not set');
    expect(() => parseNotifyTarget('hunter2 token', {})).toThrow(/^--notify URL: not a URL$/);
    expect(() => parseNotifyTarget('ftp://example.test/x', {})).toThrow(/only http and https/);
  });
});
