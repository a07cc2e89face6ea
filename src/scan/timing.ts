/**
 * Per-host timing, pure: RTT estimation and the probe timeout (RFC 6298, as nmap's
 * timing.h), the congestion window that bounds probes in flight, the answer window that
 * sizes them by what the host answers, the token bucket that caps the probe rate, and the
 * retry allowance. Times are milliseconds from any monotonic clock the caller passes in.
 */

export interface RttEstimator {
  /** Smoothed RTT; null until the first sample. */
  srttMs: number | null;
  rttvarMs: number;
  samples: number;
}

export interface TimeoutBounds {
  minRttTimeoutMs: number;
  maxRttTimeoutMs: number;
  initialRttTimeoutMs: number;
}

export function createRttEstimator(): RttEstimator {
  return { srttMs: null, rttvarMs: 0, samples: 0 };
}

/** Folds one RTT sample in (RFC 6298 2.2/2.3: alpha 1/8, beta 1/4). */
export function updateRtt(estimator: RttEstimator, sampleMs: number): void {
  const rtt = Math.max(0, sampleMs);
  if (estimator.srttMs === null) {
    estimator.srttMs = rtt;
    estimator.rttvarMs = rtt / 2;
  } else {
    estimator.rttvarMs = 0.75 * estimator.rttvarMs + 0.25 * Math.abs(estimator.srttMs - rtt);
    estimator.srttMs = 0.875 * estimator.srttMs + 0.125 * rtt;
  }
  estimator.samples++;
}

/** timeout = clamp(srtt + 4 * rttvar, min, max); the initial timeout before any sample. */
export function computeTimeoutMs(estimator: RttEstimator, bounds: TimeoutBounds): number {
  const raw =
    estimator.srttMs === null ? bounds.initialRttTimeoutMs : estimator.srttMs + 4 * estimator.rttvarMs;
  return Math.min(bounds.maxRttTimeoutMs, Math.max(bounds.minRttTimeoutMs, raw));
}

/**
 * Congestion window (probes in flight). Grows like TCP slow start up to the cap. It shrinks
 * when local resources run out (EMFILE, ENOBUFS ...) and when the share of answers that
 * needed a retransmission rises well above the random loss the path has anyway: constant
 * random loss is answered by retries, not by slowing down; a surge of drops means the path
 * or the target is saturated.
 */
export interface CongestionWindow {
  cwnd: number;
  ssthresh: number;
  maxCwnd: number;
  minCwnd: number;
  /** Answers (first try and retried) in the current measurement window. */
  answered: number;
  answeredAfterRetry: number;
  /** Count of answers after which the next decrease may happen (once per window). */
  holdUntilAnswers: number;
  totalAnswers: number;
}

export const DROP_SURGE_RATIO = 0.25;
const DROP_WINDOW_ANSWERS = 200;

export function createCongestionWindow(options: { maxCwnd: number; initialCwnd?: number }): CongestionWindow {
  const maxCwnd = Math.max(1, Math.floor(options.maxCwnd));
  const initial = Math.min(maxCwnd, Math.max(1, Math.floor(options.initialCwnd ?? Math.min(256, maxCwnd))));
  return {
    cwnd: initial,
    ssthresh: maxCwnd,
    maxCwnd,
    minCwnd: Math.min(maxCwnd, 4),
    answered: 0,
    answeredAfterRetry: 0,
    holdUntilAnswers: 0,
    totalAnswers: 0,
  };
}

/**
 * A probe finished: an answer came back for attempt number `attempt` (1 = first probe), or it
 * timed out (`answered: false`). Silence grows the window like an answer does: on a hardened
 * host silence is the answer, and only a surge of late (retried) answers means congestion.
 */
export function recordCompletion(window: CongestionWindow, completion: { answered: boolean; attempt: number }): void {
  if (window.cwnd < window.ssthresh) window.cwnd = Math.min(window.maxCwnd, window.cwnd + 1);
  else window.cwnd = Math.min(window.maxCwnd, window.cwnd + 1 / window.cwnd);
  if (!completion.answered) return;
  window.totalAnswers++;
  window.answered++;
  if (completion.attempt > 1) window.answeredAfterRetry++;
  if (window.answered >= DROP_WINDOW_ANSWERS) {
    const surge = window.answeredAfterRetry / window.answered > DROP_SURGE_RATIO;
    window.answered = 0;
    window.answeredAfterRetry = 0;
    if (surge && window.totalAnswers >= window.holdUntilAnswers) decrease(window, 0.5);
  }
}

/** The OS ran out of sockets, buffers or ports: halve the window right away. */
export function recordLocalResourceError(window: CongestionWindow, inFlight: number): void {
  if (window.totalAnswers < window.holdUntilAnswers && window.cwnd <= inFlight) return;
  window.cwnd = Math.max(window.minCwnd, Math.min(window.cwnd, inFlight) * 0.5);
  window.ssthresh = Math.max(window.minCwnd, window.cwnd);
  window.holdUntilAnswers = window.totalAnswers + Math.ceil(window.cwnd);
}

function decrease(window: CongestionWindow, factor: number): void {
  window.cwnd = Math.max(window.minCwnd, window.cwnd * factor);
  window.ssthresh = Math.max(window.minCwnd, window.cwnd);
  window.holdUntilAnswers = window.totalAnswers + Math.ceil(window.cwnd);
}

export function windowSize(window: CongestionWindow): number {
  return Math.max(1, Math.floor(window.cwnd));
}

/**
 * Answer window: probes in flight that a target answering at `answersPerMs` keeps busy, by
 * Little's law: an answered probe holds its slot for about srtt, a silent one until its timeout,
 * so in flight = rate x (silent share x timeout + answered share x srtt). A host that drops
 * everything gets the whole congestion window; one that answers in microseconds gets the floor,
 * since a wider window buys it nothing: thousands of half-open sockets only cost the kernel
 * cache misses and queue the answers (measured on a namespace target, 2 cores, 1-65535: 256 in
 * flight 0.55 s, 1024 0.67 s, 4096 0.73-0.89 s). Infinity until the first outcome: the
 * congestion window's slow start alone bounds the first probes.
 */
export interface AnswerWindowOptions {
  /** Probes in flight allowed whatever the host answers. */
  floor: number;
  /** Outcomes per millisecond the window should sustain. */
  answersPerMs: number;
}

export const ANSWER_WINDOW: AnswerWindowOptions = { floor: 256, answersPerMs: 100 };

/** Share of probes that end silent (timed out): an exponential average over outcomes. */
export interface SilenceEstimator {
  share: number;
  samples: number;
}

const SILENCE_WEIGHT = 1 / 64;

export function createSilenceEstimator(): SilenceEstimator {
  return { share: 0, samples: 0 };
}

export function recordSilence(estimator: SilenceEstimator, silent: boolean): void {
  const sample = silent ? 1 : 0;
  estimator.share = estimator.samples === 0 ? sample : estimator.share + SILENCE_WEIGHT * (sample - estimator.share);
  estimator.samples++;
}

export function answerWindowSize(
  rtt: RttEstimator,
  silence: SilenceEstimator,
  timeoutMs: number,
  options: AnswerWindowOptions = ANSWER_WINDOW,
): number {
  if (silence.samples === 0) return Infinity;
  const holdMs = silence.share * timeoutMs + (1 - silence.share) * (rtt.srttMs ?? 0);
  return Math.max(options.floor, Math.ceil(options.answersPerMs * holdMs));
}

/** Token bucket for the probe-rate cap. ratePerSecond 0 means no cap. */
export interface TokenBucket {
  ratePerSecond: number;
  burst: number;
  tokens: number;
  updatedMs: number;
}

export function createTokenBucket(options: { ratePerSecond: number; nowMs: number }): TokenBucket {
  // A burst of a tenth of a second keeps the rate even over short windows, as a target sees it.
  const burst = Math.max(1, Math.ceil(options.ratePerSecond / 10));
  return { ratePerSecond: options.ratePerSecond, burst, tokens: burst, updatedMs: options.nowMs };
}

/** Takes one token: returns 0 when the probe may go now, otherwise the wait in ms. */
export function takeToken(bucket: TokenBucket, nowMs: number): number {
  if (bucket.ratePerSecond <= 0) return 0;
  const elapsedMs = Math.max(0, nowMs - bucket.updatedMs);
  bucket.tokens = Math.min(bucket.burst, bucket.tokens + (elapsedMs * bucket.ratePerSecond) / 1000);
  bucket.updatedMs = nowMs;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 0;
  }
  return ((1 - bucket.tokens) * 1000) / bucket.ratePerSecond;
}

/**
 * How many probes a silent port gets, after nmap's rule (scan_engine.cc allowedTryno): without
 * loss, two. Once a port has answered only to a retransmission, loss is real, and a silent port
 * gets two more probes than the most any port needed (nmap gives one more; the extra one costs
 * little, since only silent ports pay it, and halves the chance of calling a lossy port filtered).
 * At most 1 + maxRetries. The engine applies the final allowance to every silent port before
 * it calls one filtered, so ports judged early are not short-changed.
 */
export function allowedAttempts(options: { maxRetries: number; maxAnsweredAttempt: number }): number {
  const cap = 1 + Math.max(0, options.maxRetries);
  const wanted = options.maxAnsweredAttempt >= 2 ? options.maxAnsweredAttempt + 2 : 2;
  return Math.min(cap, wanted);
}
