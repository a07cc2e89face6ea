/** Option values every command parses the same way, each a one-line usage error (exit 2) when wrong. */
import type { ValueRange } from '../defaults.js';
import { PortmatrixError } from '../errors.js';

/** A whole number inside its documented range, or one line and exit 2. */
export function parseWholeNumber(flag: string, value: string, { min, max }: ValueRange): number {
  const text = value.trim();
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new PortmatrixError('E_USAGE', `${flag} ${JSON.stringify(value)}: expected a whole number from ${min} to ${max}`, { hint: `for example ${flag} ${Math.min(max, Math.max(min, 100))}` });
  }
  return Number(text);
}

/** A repeatable, comma-separated option's values, trimmed, empty items dropped (commander's collector). */
export function collectCommaList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((item) => item.trim()).filter((item) => item !== '')];
}
