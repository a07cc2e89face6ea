/**
 * Vitest reporter that prints ONE summary of every test skipped for a missing need (see
 * requirements.ts) after the run: what was skipped, for which missing tool or source, and
 * the one command that installs them all. Listed after the default reporter in vitest.config.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Reporter } from 'vitest/reporters';
import { INSTALL_COMMAND, SKIP_LOG_VARIABLE, type SkipRecord } from './requirements.js';

export default class SkipSummaryReporter implements Reporter {
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'portmatrix-skips-'));
  private readonly log = path.join(this.dir, 'skips.jsonl');

  constructor() {
    // Set before the test workers start, so that they inherit it.
    process.env[SKIP_LOG_VARIABLE] = this.log;
  }

  onTestRunEnd(): void {
    let records: SkipRecord[] = [];
    try {
      records = readFileSync(this.log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as SkipRecord);
    } catch {
      // nothing was skipped
    }
    rmSync(this.dir, { recursive: true, force: true });
    if (records.length === 0) return;
    const missing = [...new Set(records.flatMap((record) => record.unmet))].sort();
    const lines = [
      '',
      `SKIPPED ${records.length} test block${records.length === 1 ? '' : 's'} for what this machine lacks (under CI=true they fail instead):`,
      ...records.map((record) => `  ${record.file}: ${record.title}  [needs ${record.unmet.join(', ')}]`),
      `Missing: ${missing.join('; ')}`,
      `Install every missing tool with one command: ${INSTALL_COMMAND} (as root; the list is scripts/test-deps.txt).`,
      ...(missing.includes('root') ? ['Run npm test as root for the network-namespace tests.'] : []),
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
