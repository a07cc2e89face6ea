import { defineConfig } from 'vitest/config';

/** The loopback sweep asserts that every open port of 127.0.0.1 has a listener: it runs alone, last. */
const LOOPBACK_SWEEP = 'test/integration/tcp-loopback.test.ts';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Most of a file's time is spent waiting on sockets, timeouts and child processes, not on a CPU:
    // more files in flight than the 2 cores of the CI machines. Test hosts are pid-tagged and claim
    // their subnets, so namespace files run side by side sharing nothing but the machine, and
    // their measurements hold under load (src/emulator/path-measurement.ts).
    maxWorkers: 4,
    // After the default output: one summary of the tests skipped for a missing tool or source.
    reporters: ['default', './test/helpers/skip-summary.ts'],
    // One project for all the rest, not one per folder: vitest runs projects one after the other
    // and orders files (longest or largest first) only within a project.
    projects: [
      { extends: true, test: { name: 'parallel', include: ['test/**/*.test.ts'], exclude: [LOOPBACK_SWEEP] } },
      // Any listener another file opens for a moment would read as open without a listener here.
      { extends: true, test: { name: 'loopback-sweep', include: [LOOPBACK_SWEEP], sequence: { groupOrder: 1 } } },
    ],
  },
});
