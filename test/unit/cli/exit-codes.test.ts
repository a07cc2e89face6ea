/** Every exit code the program can produce is in the README's table, and the table lists no other. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_ROWS_NEED_REVIEW } from '../../../src/cli/matrix-import-command.js';
import { EXIT_NOTIFY_FAILED } from '../../../src/defaults.js';
import { ERROR_EXIT_CODES, EXIT_INTERNAL_ERROR } from '../../../src/errors.js';
import { EXIT_INTERRUPTED } from '../../../src/run/exit-code.js';
import { EXIT_HOST_NOT_JUDGED } from '../../../src/scan/host-status.js';
import { exitCodeForSignal, STOP_SIGNALS } from '../../../src/util/stop-signals.js';

function documentedExitCodes(): Map<number, string> {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = /^## Exit codes\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
  const codes = new Map<number, string>();
  for (const [, code, meaning] of section.matchAll(/^\| ([^|]+?) \| (.*) \|$/gm)) {
    if (/^\d+$/.test(code!)) codes.set(Number(code), meaning!);
    // "128 + signal | ... 130 SIGINT, 143 SIGTERM, 129 SIGHUP"
    else if (code === '128 + signal') for (const [, signalCode, name] of meaning!.matchAll(/(\d{3}) (SIG[A-Z]+)/g)) codes.set(Number(signalCode), name!);
  }
  return codes;
}

describe('exit codes', () => {
  const produced = new Set<number>([
    0, // conformant (src/run/conformance-check.ts)
    1, // findings at or above --fail-on; diff: the runs differ
    ...Object.values(ERROR_EXIT_CODES),
    EXIT_INTERNAL_ERROR,
    EXIT_HOST_NOT_JUDGED,
    EXIT_ROWS_NEED_REVIEW,
    EXIT_NOTIFY_FAILED,
    EXIT_INTERRUPTED,
    ...STOP_SIGNALS.map(exitCodeForSignal),
  ]);

  it('the README table documents exactly the codes the code produces', () => {
    const documented = documentedExitCodes();
    expect([...documented.keys()].sort((a, b) => a - b)).toEqual([...produced].sort((a, b) => a - b));
  });

  it('each signal has its own documented code, 128 + its number', () => {
    const documented = documentedExitCodes();
    expect(STOP_SIGNALS.map((signal) => [signal, exitCodeForSignal(signal)])).toEqual([
      ['SIGINT', 130],
      ['SIGTERM', 143],
      ['SIGHUP', 129],
    ]);
    for (const signal of STOP_SIGNALS) expect(documented.get(exitCodeForSignal(signal))).toBe(signal);
  });

  it('a bad-input error is 2 and the internal-error code is the one the README names', () => {
    expect(new Set(Object.entries(ERROR_EXIT_CODES).filter(([code]) => code !== 'E_SCAN').map(([, exit]) => exit))).toEqual(new Set([2]));
    expect(documentedExitCodes().get(EXIT_INTERNAL_ERROR)).toMatch(/internal error/);
  });
});
