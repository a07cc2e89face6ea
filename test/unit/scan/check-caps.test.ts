/** The library refuses what the CLI refuses: caps outside their documented ranges never reach a socket. */
import { describe, expect, it } from 'vitest';
import { PROFILES, VALUE_RANGES } from '../../../src/defaults.js';
import { scanHosts } from '../../../src/scan/engine.js';
import { checkCaps } from '../../../src/scan/check-caps.js';

describe('checkCaps', () => {
  it('accepts every profile and the ends of every range', () => {
    for (const caps of Object.values(PROFILES)) expect(() => checkCaps(caps)).not.toThrow();
    expect(() => checkCaps({ ...PROFILES.gentle, maxRttTimeoutMs: VALUE_RANGES.maxRttTimeoutMs.max, maxConcurrency: VALUE_RANGES.maxConcurrency.max })).not.toThrow();
  });

  it('refuses a timeout Node would clamp to 1 ms, a fraction, and a floor above the ceiling', () => {
    expect(() => checkCaps({ ...PROFILES.gentle, maxRttTimeoutMs: 3_000_000_000 })).toThrow('caps.maxRttTimeoutMs 3000000000: expected a whole number from 1 to 60000');
    expect(() => checkCaps({ ...PROFILES.gentle, maxRetries: 1.5 })).toThrow('caps.maxRetries 1.5: expected a whole number from 0 to 50');
    expect(() => checkCaps({ ...PROFILES.gentle, minRttTimeoutMs: 5000 })).toThrow('caps.minRttTimeoutMs 5000 is above caps.maxRttTimeoutMs 3000');
  });

  it('scanHosts checks before it probes', async () => {
    const scan = scanHosts({
      targets: [{ target: '127.0.0.1', address: '127.0.0.1', family: 4 }],
      plan: { tcp: [{ start: 1, end: 10 }], udp: [] },
      caps: { ...PROFILES.gentle, maxConcurrency: 1e24 },
    } as Parameters<typeof scanHosts>[0]);
    await expect(scan).rejects.toThrow('caps.maxConcurrency 1e+24: expected a whole number from 1 to 65536');
  });
});
