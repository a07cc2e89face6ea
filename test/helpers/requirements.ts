/**
 * Tests that need something outside the repository (root, a system tool, a peer server, the
 * vendor source documents) declare it here. When it is missing the test skips, and the skip is
 * recorded for the one summary printed at the end of `npm test` (test/helpers/skip-summary.ts);
 * under CI=true a missing need is a failing test instead, never a skip.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';
import { locateSourceDocuments } from '../../scripts/source-documents.js';
import { isRoot } from '../../src/emulator/netns.js';
import { nativeProberProblem } from '../../src/scan/probes/connect-prober.js';
import { detectPrivileges } from '../../src/scan/privileges.js';
import { synUnavailableReason } from '../../src/scan/probes/syn-prober.js';
import { findExecutable } from '../../src/util/find-executable.js';
import { PACKAGE_ROOT } from '../../src/version.js';

export interface Needs {
  /** Network namespaces and raw sockets. */
  root?: boolean;
  /** Commands (looked up in PATH) or absolute paths, each listed in scripts/test-deps.txt. */
  tools?: readonly string[];
  /** The vendor source documents (scripts/source-documents.ts). */
  sources?: boolean;
  /** The native connect prober, built and loadable (npm install builds it where g++, make and python3 are). */
  nativeProber?: boolean;
  /** Raw ICMP sockets: CAP_NET_RAW and the optional raw-socket module (built at npm install like the prober). */
  rawSocket?: boolean;
  /** The native SYN prober, built, with raw sockets allowed. */
  synProber?: boolean;
}

/** Where the skip log goes (set by the skip-summary reporter); one JSON line per skipped block. */
export const SKIP_LOG_VARIABLE = 'PORTMATRIX_SKIP_LOG';
export const INSTALL_COMMAND = 'npm run test:deps';
export const TEST_DEPS_LIST = path.join(PACKAGE_ROOT, 'scripts', 'test-deps.txt');

export interface SkipRecord {
  file: string;
  title: string;
  unmet: string[];
}

/** Debian package of each tool of scripts/test-deps.txt. */
function readTestDeps(): Map<string, string> {
  const packages = new Map<string, string>();
  for (const line of readFileSync(TEST_DEPS_LIST, 'utf8').split('\n')) {
    const [need, pkg] = line.trim().split(/\s+/u);
    if (need && pkg && !need.startsWith('#')) packages.set(need, pkg);
  }
  return packages;
}

const testDeps = readTestDeps();

/** What of `needs` this machine lacks, each said with what provides it. */
export function unmetNeeds(needs: Needs): string[] {
  const unmet: string[] = [];
  if (needs.root && !isRoot()) unmet.push('root');
  for (const tool of needs.tools ?? []) {
    const pkg = testDeps.get(tool);
    if (!pkg) throw new Error(`${tool} is not in scripts/test-deps.txt: add it with its Debian package`);
    const present = tool.startsWith('/') ? existsSync(tool) : findExecutable(tool) !== undefined;
    if (!present) unmet.push(`${tool} (${pkg})`);
  }
  if (needs.nativeProber) {
    const problem = nativeProberProblem();
    if (problem) unmet.push(problem);
  }
  if (needs.synProber) {
    const problem = synUnavailableReason();
    if (problem) unmet.push(problem);
  }
  if (needs.rawSocket) {
    const privileges = detectPrivileges();
    if (!privileges.capNetRaw) unmet.push('CAP_NET_RAW (root)');
    if (!privileges.rawSocketModule) unmet.push('the optional raw-socket module (npm install builds it where g++, make and python3 are)');
  }
  if (needs.sources) {
    const located = locateSourceDocuments();
    if (located.dir === undefined) unmet.push(located.missing);
  }
  return unmet;
}

function callerFile(): string {
  const frame = (new Error().stack ?? '').split('\n').find((line) => line.includes('.test.ts'));
  const file = /(\/[^\s():]+\.test\.ts)/u.exec(frame ?? '')?.[1];
  return file ? path.relative(PACKAGE_ROOT, file) : 'unknown test file';
}

function recordSkip(record: SkipRecord): void {
  const log = process.env[SKIP_LOG_VARIABLE];
  if (log) appendFileSync(log, `${JSON.stringify(record)}\n`);
  // Without the summary reporter (another --reporter on the command line), say it here.
  else console.warn(`[portmatrix] SKIPPED ${record.file} "${record.title}": needs ${record.unmet.join(', ')} (${INSTALL_COMMAND})`);
}

function failure(title: string, unmet: string[]): Error {
  return new Error(`${title}: needs ${unmet.join(', ')}; CI=true forbids skipping (run ${INSTALL_COMMAND}, as root)`);
}

/** describe() that runs when `needs` are met, else skips visibly (fails under CI=true). */
export function describeNeeding(title: string, needs: Needs, fn: () => void): void {
  const unmet = unmetNeeds(needs);
  if (unmet.length === 0) {
    describe(title, fn);
  } else if (process.env.CI === 'true') {
    describe(title, () => {
      it('has what it needs', () => {
        throw failure(title, unmet);
      });
    });
  } else {
    recordSkip({ file: callerFile(), title, unmet });
    describe.skip(title, fn);
  }
}

/** it() that runs when `needs` are met, else skips visibly (fails under CI=true). */
export function itNeeding(title: string, needs: Needs, fn: () => unknown, timeoutMs?: number): void {
  const unmet = unmetNeeds(needs);
  if (unmet.length === 0) {
    it(title, fn, timeoutMs);
  } else if (process.env.CI === 'true') {
    it(title, () => {
      throw failure(title, unmet);
    });
  } else {
    recordSkip({ file: callerFile(), title, unmet });
    it.skip(title, fn);
  }
}
