/**
 * The native probers' lifetime (connect and SYN), in child processes of their own (a fault there
 * must not take the test runner with it): a call after destroy() is a clean error, a start that
 * fails half-way gives back every fd and thread it took, and a prober that is dropped without
 * destroy() is released by its finalizer (threads joined, fds closed, the process exits).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/version.js';
import { describeNeeding } from '../helpers/requirements.js';

const ADDON = path.join(PACKAGE_ROOT, 'build', 'Release', 'connect_prober.node');
const SYN_ADDON = path.join(PACKAGE_ROOT, 'build', 'Release', 'syn_prober.node');

/** Common head of every child script: the addon, fd and thread counts, a prober factory. */
const PRELUDE = `
const fs = require('node:fs');
const binding = require(process.env.ADDON);
const fds = () => fs.readdirSync('/proc/self/fd').length;
const threads = () => Number(/Threads:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
const create = (slots, workers) => binding.createProber('127.0.0.1', 4, slots, workers, new Int32Array(6 * 64), new Int32Array(3 * 64), () => {},
  new Float64Array(slots), new Int32Array(slots), performance.now());
const report = (value) => process.stdout.write(JSON.stringify(value));
// A dropped prober: collect garbage until its threads are joined, at most 10 s (a loaded machine finalizes late). Needs --expose-gc.
const collectUntilJoined = async (threadsBefore) => {
  for (let i = 0; i < 400 && threads() !== threadsBefore; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};
`;

/** The same for the SYN prober (raw sockets: root); `binding` is the SYN addon, `connect` the connect addon. */
const SYN_PRELUDE = `${PRELUDE}
const connect = binding;
const syn = require(process.env.SYN_ADDON);
const createSyn = (address, family) => syn.createProber(address, family, 8, new Int32Array(6 * 64), new Int32Array(3 * 64), () => {},
  new Float64Array(8), new Int32Array(8), performance.now());
const outcome = (call) => { try { call(); return 'ok'; } catch (error) { return error.code + ': ' + error.message; } };
`;

function runChild(script: string, options: { fdLimit?: number; exposeGc?: boolean; prelude?: string } = {}): { status: number | null; result: Record<string, unknown>; stderr: string } {
  const node = `exec "$NODE" ${options.exposeGc ? '--expose-gc ' : ''}-e "$SCRIPT"`;
  const command = options.fdLimit ? `ulimit -n ${options.fdLimit} && ${node}` : node;
  // A child that does not exit on its own (a handle left open) is killed by the timeout: status null.
  const env = { ...process.env, ADDON, SYN_ADDON, NODE: process.execPath, SCRIPT: (options.prelude ?? PRELUDE) + script };
  const child = spawnSync('sh', ['-c', command], { env, encoding: 'utf8', timeout: 20_000 });
  let result: Record<string, unknown> = {};
  try {
    result = JSON.parse(child.stdout) as Record<string, unknown>;
  } catch {
    // reported through the assertion on result below
  }
  return { status: child.status, result, stderr: child.stderr };
}

describe('native addon build at npm install', () => {
  it('without a compiler toolchain it says so in one warning line and does not fail the install', () => {
    // A copy of the sources in a folder of its own: a failed rebuild there cannot touch build/ here.
    const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-native-build-'));
    try {
      cpSync(path.join(PACKAGE_ROOT, 'native'), path.join(work, 'native'), { recursive: true });
      cpSync(path.join(PACKAGE_ROOT, 'binding.gyp'), path.join(work, 'binding.gyp'));
      const emptyPath = path.join(work, 'bin');
      mkdirSync(emptyPath);
      const build = spawnSync(process.execPath, [path.join(work, 'native', 'build.mjs')], { cwd: work, env: { ...process.env, PATH: emptyPath }, encoding: 'utf8', timeout: 60_000 });
      expect(build.status).toBe(0);
      expect(build.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^portmatrix: native probers not built \(.+\); scans use net\.Socket/)]);
      expect(existsSync(path.join(work, 'build', 'Release', 'connect_prober.node'))).toBe(false);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describeNeeding('native connect prober lifetime', { nativeProber: true }, () => {
  it('a call after destroy() is a clean E_DESTROYED error; destroy() twice is harmless', () => {
    const { status, result, stderr } = runChild(`
      const prober = create(8, 2);
      binding.destroy(prober);
      const outcome = (call) => { try { call(); return 'ok'; } catch (error) { return error.code + ': ' + error.message; } };
      report({ submit: outcome(() => binding.submit(prober, 0)), drain: outcome(() => binding.drain(prober)), again: outcome(() => binding.destroy(prober)),
        notProber: outcome(() => binding.submit({}, 0)) });
    `);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(result).toEqual({
      submit: 'E_DESTROYED: connect prober used after destroy()',
      drain: 'E_DESTROYED: connect prober used after destroy()',
      again: 'ok',
      notProber: 'E_NATIVE: not a connect prober',
    });
  });

  it('a start that fails half-way (fds run out at the second worker) gives back every fd and thread', () => {
    // Fill the fd table, then free three: worker 0 takes two (epoll, eventfd), worker 1's eventfd fails.
    const { status, result, stderr } = runChild(`
      const before = { fds: fds(), threads: threads() };
      const filler = [];
      try { for (let i = 0; i < 200; i++) filler.push(fs.openSync('/dev/null', 'r')); } catch {}
      for (let i = 0; i < 3; i++) fs.closeSync(filler.pop());
      let error = '';
      try { create(8, 2); } catch (caught) { error = caught.code; }
      // All three must be free again: three opens succeed, the fourth does not.
      let reopened = 0;
      try { for (let i = 0; i < 4; i++) { filler.push(fs.openSync('/dev/null', 'r')); reopened++; } } catch {}
      for (const fd of filler) fs.closeSync(fd);
      report({ error, reopened, threadsBack: threads() === before.threads, fdsBack: fds() === before.fds });
    `, { fdLimit: 64 });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(result).toEqual({ error: 'EMFILE', reopened: 3, threadsBack: true, fdsBack: true });
  });

  it('a prober dropped without destroy() is released by its finalizer: threads joined, fds closed, the process exits', () => {
    const { status, result, stderr } = runChild(`
      const before = { fds: fds(), threads: threads() };
      let prober = create(8, 2);
      binding.submit(prober, 0);
      const running = { fds: fds() - before.fds, threads: threads() - before.threads };
      prober = null;
      (async () => {
        await collectUntilJoined(before.threads);
        report({ running, fdsBack: fds() === before.fds, threadsBack: threads() === before.threads });
      })();
    `, { exposeGc: true });
    expect(stderr).toBe('');
    // Exit code 0 within the timeout: no handle of the prober kept the process alive.
    expect(status).toBe(0);
    expect(result).toEqual({ running: { fds: 4, threads: 2 }, fdsBack: true, threadsBack: true });
  });
});

describeNeeding('native SYN prober lifetime', { synProber: true }, () => {
  it('a call after destroy() is a clean E_DESTROYED error; destroy() twice is harmless; another kind of handle is refused', () => {
    const { status, result, stderr } = runChild(
      `
      const prober = createSyn('127.0.0.1', 4);
      const live = syn.stats(prober).sourcePort > 0;
      syn.destroy(prober);
      const connectProber = create(8, 1);
      report({ live, submit: outcome(() => syn.submit(prober, 0)), drain: outcome(() => syn.drain(prober)), stats: outcome(() => syn.stats(prober)),
        again: outcome(() => syn.destroy(prober)), notProber: outcome(() => syn.submit({}, 0)), connectHandle: outcome(() => syn.submit(connectProber, 0)),
        synToConnect: outcome(() => connect.destroy(prober)) });
      connect.destroy(connectProber);
    `,
      { prelude: SYN_PRELUDE },
    );
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(result).toEqual({
      live: true,
      submit: 'E_DESTROYED: SYN prober used after destroy()',
      drain: 'E_DESTROYED: SYN prober used after destroy()',
      stats: 'E_DESTROYED: SYN prober used after destroy()',
      again: 'ok',
      notProber: 'E_NATIVE: not a SYN prober',
      connectHandle: 'E_NATIVE: not a SYN prober',
      synToConnect: 'E_NATIVE: not a connect prober',
    });
  });

  it('a start that fails at any step (bad input, fds running out at each socket) gives back every fd and thread', () => {
    // With k fds free, the start fails at its (k+1)th fd: the route lookup, the raw TCP socket,
    // the raw ICMP socket, the eventfd. After each, exactly k fds must be free again.
    const { status, result, stderr } = runChild(
      `
      const before = { fds: fds(), threads: threads() };
      const bad = [outcome(() => createSyn('1.2.3', 4)), outcome(() => createSyn('127.0.0.1', 5)), outcome(() => createSyn('::1', 4))];
      const filler = [];
      try { for (let i = 0; i < 200; i++) filler.push(fs.openSync('/dev/null', 'r')); } catch {}
      const steps = [];
      for (let free = 0; free < 4; free++) {
        for (let i = 0; i < free; i++) fs.closeSync(filler.pop());
        steps.push(outcome(() => createSyn('127.0.0.1', 4)));
        let reopened = 0;
        try { for (let i = 0; i <= free; i++) { filler.push(fs.openSync('/dev/null', 'r')); reopened++; } } catch {}
        steps.push(reopened === free ? 'all back' : reopened + ' of ' + free + ' back');
      }
      for (const fd of filler) fs.closeSync(fd);
      report({ bad, steps, threadsBack: threads() === before.threads, fdsBack: fds() === before.fds });
    `,
      { prelude: SYN_PRELUDE, fdLimit: 64 },
    );
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(result).toEqual({
      bad: ['undefined: not an IPv4/IPv6 address literal', 'undefined: not an IPv4/IPv6 address literal', 'undefined: not an IPv4/IPv6 address literal'],
      steps: [
        'EMFILE: route to the target: Too many open files',
        'all back',
        'EMFILE: open a raw socket: Too many open files',
        'all back',
        'EMFILE: open a raw socket: Too many open files',
        'all back',
        'EMFILE: eventfd: Too many open files',
        'all back',
      ],
      threadsBack: true,
      fdsBack: true,
    });
  });

  it('a prober dropped without destroy() is released by its finalizer: worker joined, raw sockets closed, the process exits', () => {
    const { status, result, stderr } = runChild(
      `
      const before = { fds: fds(), threads: threads() };
      let prober = createSyn('127.0.0.1', 4);
      const running = { fds: fds() - before.fds, threads: threads() - before.threads };
      prober = null;
      (async () => {
        await collectUntilJoined(before.threads);
        report({ running, fdsBack: fds() === before.fds, threadsBack: threads() === before.threads });
      })();
    `,
      { prelude: SYN_PRELUDE, exposeGc: true },
    );
    expect(stderr).toBe('');
    expect(status).toBe(0);
    // Four fds while it runs: raw TCP, raw ICMP, the bound port-reserving socket, the eventfd.
    expect(result).toEqual({ running: { fds: 4, threads: 1 }, fdsBack: true, threadsBack: true });
  });
});
