/**
 * Port plans, pure: `all` (1-65535), `matrix` (the documented ports), `none`, or a spec
 * like `1-1024,5060,50790-50820`; and the walk over a plan in pseudo-random order.
 */
import { PortmatrixError } from '../errors.js';
import { MAX_PORT, MIN_PORT, normalizeRanges, parsePortSpec, type PortRange } from '../model/port-range.js';
import { createIndexPermutation } from './permutation.js';

export type PortOption = '--ports' | '--udp';

/** Which ports to scan, as the user chose them: a keyword (matrix: the documented ports of the selection) or ranges. */
export type PortSelection = 'all' | 'matrix' | 'none' | readonly PortRange[];

/** `all | matrix | none | 1-1024,5060` to a selection. Throws PortmatrixError (exit 2) on a bad spec, naming the option. */
export function parsePortSelection(value: string, option: PortOption): PortSelection {
  const keyword = value.trim().toLowerCase();
  if (keyword === 'all' || keyword === 'none' || keyword === 'matrix') return keyword;
  const parsed = parsePortSpec(value);
  if (!parsed.ok) {
    throw new PortmatrixError('E_PORT_SPEC', `${option} ${JSON.stringify(value)}: ${parsed.error}`, {
      hint: 'use all, matrix, none, or ports and ranges within 1-65535 like 1-1024,5060',
    });
  }
  return normalizeRanges(parsed.ranges);
}

/** A selection to ranges; `matrix` takes the documented ports and fails when there are none. */
export function resolvePortSelection(selection: PortSelection, option: PortOption, documented: readonly PortRange[]): PortRange[] {
  if (selection === 'all') return [{ start: MIN_PORT, end: MAX_PORT }];
  if (selection === 'none') return [];
  if (selection === 'matrix') {
    if (documented.length === 0) {
      throw new PortmatrixError('E_USAGE', `${option} matrix: no matrix selected, so no documented ports`, {
        hint: `add --matrix <id>, or give ${option} all or a list like 1-1024,5060`,
      });
    }
    return normalizeRanges(documented);
  }
  return normalizeRanges(selection);
}

/** parsePortSelection then resolvePortSelection: a port option's text to ranges. */
export function parsePortOption(value: string, option: PortOption, documented: readonly PortRange[]): PortRange[] {
  return resolvePortSelection(parsePortSelection(value, option), option, documented);
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
