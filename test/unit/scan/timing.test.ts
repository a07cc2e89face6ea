import { describe, expect, it } from 'vitest';
import {
  allowedAttempts,
  answerWindowSize,
  computeTimeoutMs,
  createCongestionWindow,
  createRttEstimator,
  createSilenceEstimator,
  createTokenBucket,
  recordCompletion,
  recordLocalResourceError,
  recordSilence,
  takeToken,
  updateRtt,
  windowSize,
} from '../../../src/scan/timing.js';

const bounds = { minRttTimeoutMs: 100, maxRttTimeoutMs: 2000, initialRttTimeoutMs: 1000 };

describe('RTT estimator (RFC 6298)', () => {
  it('uses the initial timeout before any sample', () => {
    expect(computeTimeoutMs(createRttEstimator(), bounds)).toBe(1000);
  });
  it('first sample: srtt = R, rttvar = R/2; then alpha 1/8, beta 1/4', () => {
    const estimator = createRttEstimator();
    updateRtt(estimator, 200);
    expect(estimator.srttMs).toBe(200);
    expect(estimator.rttvarMs).toBe(100);
    expect(computeTimeoutMs(estimator, bounds)).toBe(600);
    updateRtt(estimator, 100);
    expect(estimator.rttvarMs).toBeCloseTo(0.75 * 100 + 0.25 * 100);
    expect(estimator.srttMs).toBeCloseTo(0.875 * 200 + 0.125 * 100);
  });
  it('clamps to the floor and the ceiling', () => {
    const fast = createRttEstimator();
    for (let index = 0; index < 50; index++) updateRtt(fast, 0.2);
    expect(computeTimeoutMs(fast, bounds)).toBe(100);
    const slow = createRttEstimator();
    updateRtt(slow, 5000);
    expect(computeTimeoutMs(slow, bounds)).toBe(2000);
  });
});

describe('retry allowance (nmap allowedTryno)', () => {
  it('gives a silent port two probes when nothing needed a retry', () => {
    expect(allowedAttempts({ maxRetries: 6, maxAnsweredAttempt: 1 })).toBe(2);
  });
  it('grows past the latest attempt that was answered, capped by maxRetries', () => {
    expect(allowedAttempts({ maxRetries: 6, maxAnsweredAttempt: 2 })).toBe(4);
    expect(allowedAttempts({ maxRetries: 6, maxAnsweredAttempt: 3 })).toBe(5);
    expect(allowedAttempts({ maxRetries: 6, maxAnsweredAttempt: 6 })).toBe(7);
    expect(allowedAttempts({ maxRetries: 2, maxAnsweredAttempt: 5 })).toBe(3);
    expect(allowedAttempts({ maxRetries: 0, maxAnsweredAttempt: 1 })).toBe(1);
  });
});

describe('congestion window', () => {
  it('slow-starts up to the cap', () => {
    const window = createCongestionWindow({ maxCwnd: 300, initialCwnd: 10 });
    for (let index = 0; index < 1000; index++) recordCompletion(window, { answered: true, attempt: 1 });
    expect(windowSize(window)).toBe(300);
  });
  it('ignores steady random loss but halves on a surge of retried answers', () => {
    const window = createCongestionWindow({ maxCwnd: 1000, initialCwnd: 1000 });
    for (let index = 0; index < 400; index++) recordCompletion(window, { answered: true, attempt: index % 20 === 0 ? 2 : 1 });
    expect(windowSize(window)).toBe(1000);
    for (let index = 0; index < 200; index++) recordCompletion(window, { answered: true, attempt: index % 2 === 0 ? 2 : 1 });
    expect(windowSize(window)).toBeLessThanOrEqual(501);
  });
  it('halves at once on a local resource error, not below the floor', () => {
    const window = createCongestionWindow({ maxCwnd: 512, initialCwnd: 512 });
    recordLocalResourceError(window, 512);
    expect(windowSize(window)).toBe(256);
    for (let index = 0; index < 30; index++) recordLocalResourceError(window, windowSize(window));
    expect(windowSize(window)).toBeGreaterThanOrEqual(4);
  });
});

describe('answer window (Little\'s law)', () => {
  const options = { floor: 256, answersPerMs: 100 };
  it('does not bound anything before the first outcome', () => {
    expect(answerWindowSize(createRttEstimator(), createSilenceEstimator(), 500, options)).toBe(Infinity);
  });
  it('keeps a host that answers in microseconds at the floor', () => {
    const rtt = createRttEstimator();
    const silence = createSilenceEstimator();
    for (let index = 0; index < 1000; index++) {
      updateRtt(rtt, 0.2);
      recordSilence(silence, false);
    }
    expect(answerWindowSize(rtt, silence, 50, options)).toBe(256);
  });
  it('widens to rate x RTT on a slow path, and to rate x timeout when the host drops everything', () => {
    const rtt = createRttEstimator();
    const slow = createSilenceEstimator();
    for (let index = 0; index < 1000; index++) {
      updateRtt(rtt, 20);
      recordSilence(slow, index % 50 === 0);
    }
    const slowWindow = answerWindowSize(rtt, slow, 50, options);
    expect(slowWindow).toBeGreaterThan(2000);
    expect(slowWindow).toBeLessThan(2400);
    const dropping = createSilenceEstimator();
    for (let index = 0; index < 1000; index++) recordSilence(dropping, true);
    expect(answerWindowSize(createRttEstimator(), dropping, 50, options)).toBeGreaterThanOrEqual(4999);
  });
  it('follows a change in the share of silent probes', () => {
    const silence = createSilenceEstimator();
    for (let index = 0; index < 500; index++) recordSilence(silence, false);
    expect(silence.share).toBe(0);
    for (let index = 0; index < 200; index++) recordSilence(silence, true);
    expect(silence.share).toBeGreaterThan(0.9);
  });
});

describe('token bucket', () => {
  it('lets a burst of a tenth of a second through, then paces at the rate', () => {
    const bucket = createTokenBucket({ ratePerSecond: 100, nowMs: 0 });
    let sent = 0;
    while (takeToken(bucket, 0) === 0) sent++;
    expect(sent).toBe(10);
    expect(takeToken(bucket, 0)).toBeCloseTo(10);
    expect(takeToken(bucket, 10)).toBe(0);
  });
  it('never waits without a cap', () => {
    const bucket = createTokenBucket({ ratePerSecond: 0, nowMs: 0 });
    for (let index = 0; index < 1000; index++) expect(takeToken(bucket, 0)).toBe(0);
  });
  it('sends at most rate x seconds + burst over a simulated second', () => {
    const bucket = createTokenBucket({ ratePerSecond: 300, nowMs: 0 });
    let sent = 0;
    for (let now = 0; now <= 1000; now += 0.5) while (takeToken(bucket, now) === 0) sent++;
    expect(sent).toBeGreaterThanOrEqual(300);
    expect(sent).toBeLessThanOrEqual(300 + 30 + 1);
  });
});
