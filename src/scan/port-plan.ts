/**
 * Port plans, pure: `all` (1-65535), `matrix` (the documented ports), `none`, or a spec
 * like `1-1024,5060,50790-50820`; and the walk over a plan in pseudo-random order.
 */
import { PortmatrixError } from '../errors.js';
import { MAX_PORT, MIN_PORT, normalizeRanges, parsePortSpec, type PortRange } from '../matrix/port-spec.js';
import { createIndexPermutation } from './permutation.js';

export type PortOption = '--ports' | '--udp';

export function parsePortOption(value: string, option: PortOption, documented: PortRange[]): PortRange[] {
  const keyword = value.trim().toLowerCase();
  if (keyword === 'all') return [{ start: MIN_PORT, end: MAX_PORT }];
  if (keyword === 'none') return [];
  if (keyword === 'matrix') {
    if (documented.length === 0) {
      throw new PortmatrixError('E_USAGE', `${option} matrix: no matrix selected, so no documented ports`, {
        hint: `add --matrix <id>, or give ${option} all or a list like 1-1024,5060`,
      });
    }
    return normalizeRanges(documented);
  }
  const parsed = parsePortSpec(value);
  if (!parsed.ok) {
    throw new PortmatrixError('E_PORT_SPEC', `${option} ${JSON.stringify(value)}: ${parsed.error}`, {
      hint: 'use all, matrix, none, or ports and ranges within 1-65535 like 1-1024,5060',
    });
  }
  return normalizeRanges(parsed.ranges);
}

/** Every port of a plan, each once, in a seeded pseudo-random order, without building the list. */
export function createPortWalk(ranges: readonly PortRange[], seed: number): { size: number; next(): number } {
  const merged = normalizeRanges(ranges);
  const offsets: number[] = [];
  let size = 0;
  for (const range of merged) {
    offsets.push(size);
    size += range.end - range.start + 1;
  }
  const permutation = createIndexPermutation({ size, seed });
  return {
    size,
    next(): number {
      const index = permutation.next();
      if (index < 0) return -1;
      // Binary search for the range holding this index (plans have few ranges).
      let low = 0;
      let high = merged.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if ((offsets[middle] ?? 0) <= index) low = middle;
        else high = middle - 1;
      }
      return (merged[low]?.start ?? 0) + index - (offsets[low] ?? 0);
    },
  };
}
