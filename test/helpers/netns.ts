/**
 * describeNetns: a describe() for tests that need network namespaces (root).
 * Without root the block is skipped with a visible message; under CI=true a missing root
 * is a failure, never a silent skip.
 */
import { beforeAll, describe, it } from 'vitest';
import { isRoot, removeStaleTestHosts } from '../../src/emulator/netns.js';

export function describeNetns(title: string, fn: () => void): void {
  if (isRoot()) {
    describe(title, () => {
      // Leftovers of a crashed earlier run (dead creating pid) must not confuse this one.
      beforeAll(async () => {
        await removeStaleTestHosts();
      });
      fn();
    });
    return;
  }
  if (process.env.CI === 'true') {
    describe(title, () => {
      it('runs as root (CI=true: namespace tests must run, not skip)', () => {
        throw new Error(`${title}: network-namespace tests need root, and CI=true forbids skipping them`);
      });
    });
    return;
  }
  console.warn(`\n[portmatrix] SKIPPED "${title}": network-namespace tests need root (run the suite as root; CI=true makes this a failure)\n`);
  describe.skip(title, fn);
}
