import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Namespace tests share the kernel's network state; files run one at a time
    // so that two tests never fight over ICMP rate limits or CPU-bound timing.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // After the default output: one summary of the tests skipped for a missing tool or source.
    reporters: ['default', './test/helpers/skip-summary.ts'],
  },
});
