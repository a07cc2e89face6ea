import { describe, expect, it } from 'vitest';
import { createIndexPermutation } from '../../../src/scan/permutation.js';
import { createPortWalk } from '../../../src/scan/port-plan.js';

function drain(next: () => number): number[] {
  const out: number[] = [];
  for (let value = next(); value >= 0; value = next()) out.push(value);
  return out;
}

describe('index permutation', () => {
  it.each([1, 2, 3, 17, 1000, 65535, 65536])('produces each of 0..%i-1 exactly once', (size) => {
    const values = drain(createIndexPermutation({ size, seed: 12345 }).next);
    expect(values).toHaveLength(size);
    expect(new Set(values).size).toBe(size);
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBe(size - 1);
  });
  it('is not sequential and depends on the seed; the same seed repeats', () => {
    const a = drain(createIndexPermutation({ size: 65535, seed: 1 }).next);
    const b = drain(createIndexPermutation({ size: 65535, seed: 2 }).next);
    const again = drain(createIndexPermutation({ size: 65535, seed: 1 }).next);
    expect(a).toEqual(again);
    expect(a).not.toEqual(b);
    const ascending = a.filter((value, index) => index > 0 && value === (a[index - 1] ?? -2) + 1).length;
    expect(ascending).toBeLessThan(200);
    // The first 1000 ports come from all over the range, so a slow region cannot stall the scan.
    const firstThousand = a.slice(0, 1000);
    expect(firstThousand.filter((value) => value < 32768).length).toBeGreaterThan(400);
    expect(firstThousand.filter((value) => value >= 32768).length).toBeGreaterThan(400);
  });
  it('handles an empty plan', () => {
    expect(createIndexPermutation({ size: 0, seed: 1 }).next()).toBe(-1);
  });
});

describe('port walk over ranges', () => {
  it('visits exactly the ports of a multi-range plan', () => {
    const walk = createPortWalk([{ start: 1, end: 1024 }, { start: 5060, end: 5060 }, { start: 50790, end: 50820 }], 7);
    const ports = drain(walk.next);
    expect(walk.size).toBe(1024 + 1 + 31);
    expect([...ports].sort((x, y) => x - y)).toEqual([
      ...Array.from({ length: 1024 }, (_, index) => index + 1),
      5060,
      ...Array.from({ length: 31 }, (_, index) => 50790 + index),
    ]);
  });
});
