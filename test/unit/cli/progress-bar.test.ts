/** The progress line fits the terminal it is given, and a terminal that reports 0 or no columns gets all of it. */
import { describe, expect, it } from 'vitest';
import { createProgressBar } from '../../../src/cli/progress-bar.js';
import type { ScanProgress } from '../../../src/scan/engine.js';

const PROGRESS: ScanProgress = { hostIndex: 0, hostCount: 1, address: '198.18.0.2', portsDone: 1200, portsTotal: 65535, openSoFar: 3, ratePerSecond: 300, etaMs: 214_000, udpConfirming: 0 };

function lineShown(columns: number | undefined): string {
  let written = '';
  createProgressBar({ columns: columns as number, write: (text: string) => ((written += text), true) }).update(PROGRESS);
  return written.replace('\r\u001b[2K', '');
}

describe('progress line', () => {
  it('is cut to one character less than the terminal is wide', () => {
    expect(lineShown(40)).toHaveLength(39);
  });

  it('is shown whole when the terminal reports 0 or no columns', () => {
    const whole = lineShown(undefined);
    expect(whole).toMatch(/^\[#?\.+\] 1200\/65535 ports {2}3 open {2}300\/s ETA 3m34s$/);
    expect(lineShown(0)).toBe(whole);
  });
});
