/**
 * Walks 0..n-1 in a pseudo-random order without materialising a shuffled list: a 4-round
 * Feistel network over the smallest even-bit power of two >= n is a bijection; indices
 * it maps outside 0..n-1 are skipped (cycle walking), at most 3 of every 4. Seeded, so a
 * run can be repeated. The same idea as masscan's and RustScan's port randomisers.
 */
export interface IndexPermutation {
  readonly size: number;
  /** The next index, or -1 when all n have been produced. */
  next(): number;
}

function roundFunction(value: number, key: number): number {
  // A small integer hash (xorshift-multiply); quality is ample for spreading ports.
  let x = (value ^ key) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

export function createIndexPermutation(options: { size: number; seed: number }): IndexPermutation {
  const size = Math.max(0, Math.floor(options.size));
  let halfBits = 1;
  while (2 ** (2 * halfBits) < size) halfBits++;
  const halfMask = (1 << halfBits) - 1;
  const domain = 2 ** (2 * halfBits);
  const keys = [0, 1, 2, 3].map((round) => roundFunction(options.seed >>> 0, 0x9e3779b9 + round));
  const permute = (index: number): number => {
    let left = index >>> halfBits;
    let right = index & halfMask;
    for (const key of keys) {
      const mixed = left ^ (roundFunction(right, key) & halfMask);
      left = right;
      right = mixed;
    }
    return (left << halfBits) | right;
  };
  let cursor = 0;
  return {
    size,
    next(): number {
      while (cursor < domain) {
        const candidate = permute(cursor++);
        if (candidate < size) return candidate;
      }
      return -1;
    },
  };
}
