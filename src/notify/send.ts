/**
 * Delivering notifications with undici: one POST per target, a timeout per attempt, retries
 * with exponential backoff for network errors, 429 and 5xx (never for other 4xx: a wrong URL does
 * not get better). Never throws: every target ends with an outcome the caller reports. URLs may
 * carry secrets (webhook tokens): a target is given as "env:NAME" to read it from the
 * environment, and only its redacted form (scheme, host, "/…") is ever shown.
 */
import { PortmatrixError } from '../errors.js';

export interface NotifyTarget {
  url: string;
  /** What may be shown: "https://hooks.example.com/…" (from env:NAME: "env:NAME (https://hooks.example.com/…)"). */
  shown: string;
}

export interface DeliveryOutcome {
  target: string;
  delivered: boolean;
  attempts: number;
  /** HTTP status of the last answer, when there was one. */
  status?: number;
  /** Why it was not delivered: "HTTP 500", "timed out after 5000 ms", "ECONNREFUSED". */
  error?: string;
}

export interface SendOptions {
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
}

export const DEFAULT_SEND_OPTIONS: SendOptions = { timeoutMs: 5_000, attempts: 3, backoffMs: 500 };

function redact(url: URL): string {
  return `${url.protocol}//${url.host}/…`;
}

/** "--notify https://..." or "--notify env:NAME": the target, checked; a bad one is a usage error before any scanning. */
export function parseNotifyTarget(value: string, env: Record<string, string | undefined>): NotifyTarget {
  const fromEnv = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
  const raw = fromEnv ? env[fromEnv[1]!] : value;
  if (fromEnv && (raw === undefined || raw === '')) {
    throw new PortmatrixError('E_USAGE', `--notify ${value}: the environment variable ${fromEnv[1]} is not set`, { hint: 'export the webhook URL in it' });
  }
  let url: URL;
  try {
    url = new URL(raw!);
  } catch {
    // Never echo the value: it may be a secret pasted in the wrong place.
    throw new PortmatrixError('E_USAGE', `--notify ${fromEnv ? value : 'URL'}: not a URL`, { hint: 'give https://... or env:NAME with the URL in that variable' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PortmatrixError('E_USAGE', `--notify ${fromEnv ? value : redact(url)}: only http and https are supported`, { hint: 'give an https:// webhook URL' });
  }
  return { url: url.toString(), shown: fromEnv ? `${value} (${redact(url)})` : redact(url) };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function deliver(target: NotifyTarget, body: string, options: SendOptions = DEFAULT_SEND_OPTIONS): Promise<DeliveryOutcome> {
  // Loaded here, not at start-up: undici is a large module that a run without --notify never needs.
  const { request } = await import('undici');
  let last: Pick<DeliveryOutcome, 'status' | 'error'> = {};
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    if (attempt > 1) await sleep(options.backoffMs * 2 ** (attempt - 2));
    try {
      const response = await request(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'portmatrix' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) return { target: target.shown, delivered: true, attempts: attempt, status: response.statusCode };
      last = { status: response.statusCode, error: `HTTP ${response.statusCode}` };
      if (response.statusCode < 500 && response.statusCode !== 429) return { target: target.shown, delivered: false, attempts: attempt, ...last };
    } catch (error) {
      const code = (error as { code?: string }).code;
      const timedOut = (error as Error).name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
      last = { error: timedOut ? `timed out after ${options.timeoutMs} ms` : (code ?? (error as Error).name) };
    }
  }
  return { target: target.shown, delivered: false, attempts: options.attempts, ...last };
}

/** Every target at once; the outcomes in the targets' order. */
export function deliverAll(targets: readonly NotifyTarget[], body: string, options?: SendOptions): Promise<DeliveryOutcome[]> {
  return Promise.all(targets.map((target) => deliver(target, body, options)));
}
