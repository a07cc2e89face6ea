/**
 * The scan caps a library caller passes are held to the same documented ranges as the CLI's
 * flags (VALUE_RANGES): a timeout Node would clamp to 1 ms, or a concurrency of 1e24, is refused
 * before any probe, never clamped. Pure.
 */
import { VALUE_RANGES, type ScanCaps } from '../defaults.js';
import { PortmatrixError } from '../errors.js';

const CAP_KEYS = Object.keys({
  maxConcurrency: true,
  maxRatePerSecond: true,
  maxRetries: true,
  minRttTimeoutMs: true,
  maxRttTimeoutMs: true,
  initialRttTimeoutMs: true,
} satisfies Record<keyof ScanCaps, true>) as (keyof ScanCaps)[];

/** Throws E_USAGE naming the cap (as `name` spells it: a flag for the CLI, `caps.x` for the library). */
export function checkCaps(caps: ScanCaps, name: (key: keyof ScanCaps) => string = (key) => `caps.${key}`): void {
  for (const key of CAP_KEYS) {
    const { min, max } = VALUE_RANGES[key];
    const value = caps[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new PortmatrixError('E_USAGE', `${name(key)} ${String(value)}: expected a whole number from ${min} to ${max}`);
    }
  }
  if (caps.minRttTimeoutMs > caps.maxRttTimeoutMs) {
    throw new PortmatrixError('E_USAGE', `${name('minRttTimeoutMs')} ${caps.minRttTimeoutMs} is above ${name('maxRttTimeoutMs')} ${caps.maxRttTimeoutMs}`, {
      hint: 'make the floor at most the ceiling',
    });
  }
}
