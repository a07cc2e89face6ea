import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortmatrixError } from '../../../src/errors.js';
import { readTargetsFile, resolveTargets } from '../../../src/scan/targets.js';

/** A resolver that knows no name: a test never asks the machine's DNS about a name it did not map itself. */
const resolveNothing = async (name: string): Promise<never> => {
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
};

async function targetError(specs: string[], maxHosts = 256): Promise<PortmatrixError> {
  try {
    await resolveTargets(specs, { maxHosts, resolve: resolveNothing });
  } catch (error) {
    expect(error).toBeInstanceOf(PortmatrixError);
    return error as PortmatrixError;
  }
  throw new Error('expected an error');
}

describe('resolveTargets', () => {
  it('counts distinct hosts against the cap: 300 copies of one address and overlapping blocks fit a cap of 4', async () => {
    const copies = Array.from({ length: 300 }, () => '198.18.0.9');
    expect(await resolveTargets(copies, { maxHosts: 1 })).toEqual([{ target: '198.18.0.9', address: '198.18.0.9', family: 4 }]);
    const overlapping = await resolveTargets(['198.18.0.0/30', '198.18.0.0/30,198.18.0.1', '198.18.0.2'], { maxHosts: 2 });
    expect(overlapping.map((host) => host.address)).toEqual(['198.18.0.1', '198.18.0.2']);
    expect((await targetError(['198.18.0.1', '198.18.0.2', '198.18.0.1', '198.18.0.3'], 2)).message).toBe('more than 2 distinct hosts to scan');
  });

  it('IPv4, IPv6 (canonical form), lists, duplicates once', async () => {
    expect(await resolveTargets(['127.0.0.1,::1', '2001:DB8:0:0::10', '127.0.0.1'], { maxHosts: 10 })).toEqual([
      { target: '127.0.0.1', address: '127.0.0.1', family: 4 },
      { target: '::1', address: '::1', family: 6 },
      { target: '2001:DB8:0:0::10', address: '2001:db8::10', family: 6 },
    ]);
  });
  it('IPv6 literals: brackets as in URLs, an IPv4-mapped address is its IPv4 host, a zone index is refused', async () => {
    expect(await resolveTargets(['[2001:db8::10]', '[2001:db8::]/127', '::ffff:198.18.0.1'], { maxHosts: 10 })).toEqual([
      { target: '[2001:db8::10]', address: '2001:db8::10', family: 6 },
      { target: '2001:db8::/127', address: '2001:db8::', family: 6 },
      { target: '2001:db8::/127', address: '2001:db8::1', family: 6 },
      { target: '::ffff:198.18.0.1', address: '198.18.0.1', family: 4 },
    ]);
    const zone = await targetError(['fe80::1%eth0']);
    expect([zone.exitCode, zone.message]).toEqual([2, 'target "fe80::1%eth0": a zone index (%interface) is not supported']);
    const resolve = async () => [{ address: '2001:DB8::A', family: 6 }];
    expect(await resolveTargets(['pbx.test'], { maxHosts: 1, resolve })).toEqual([{ target: 'pbx.test', address: '2001:db8::a', family: 6, name: 'pbx.test' }]);
  });
  it('an IPv6 block is bounded like an IPv4 one; its size is said exactly', async () => {
    expect((await targetError(['2001:db8::/64'])).message).toBe('target "2001:db8::/64": 2^64 hosts, more than the cap of 256');
    expect((await targetError(['2001:db8::/0'])).message).toBe('target "2001:db8::/0": 2^128 hosts, more than the cap of 256');
    expect((await targetError(['2001:db8::/119'])).hint).toMatch(/--max-hosts 512$/);
  });
  it('CIDR blocks expand to hosts (no network/broadcast in /30 and wider)', async () => {
    const hosts = await resolveTargets(['198.18.0.5/29'], { maxHosts: 256 });
    expect(hosts.map((host) => host.address)).toEqual(['198.18.0.1', '198.18.0.2', '198.18.0.3', '198.18.0.4', '198.18.0.5', '198.18.0.6']);
    expect(hosts.every((host) => host.target === '198.18.0.5/29')).toBe(true);
    expect((await resolveTargets(['2001:db8::/126'], { maxHosts: 4 })).map((host) => host.address)).toEqual(['2001:db8::', '2001:db8::1', '2001:db8::2', '2001:db8::3']);
  });
  it('an oversized block needs --max-hosts', async () => {
    const error = await targetError(['198.18.0.0/16']);
    expect(error.code).toBe('E_TARGET');
    expect(error.exitCode).toBe(2);
    expect(error.hint).toMatch(/--max-hosts 65534$/);
    expect((await resolveTargets(['198.18.0.0/22'], { maxHosts: 1024 })).length).toBe(1022);
  });
  it('names are resolved once and the address recorded', async () => {
    const [host] = await resolveTargets(['localhost'], { maxHosts: 1 });
    expect(host?.target).toBe('localhost');
    expect(['127.0.0.1', '::1']).toContain(host?.address);
  });
  it.each([['999.1.1.1'], ['1.2.3'], ['fe80:::1'], ['198.18.0.0/33'], ['bad name!'], ['no-such-host.invalid']])('%s -> one line, exit 2', async (spec) => {
    const error = await targetError([spec]);
    expect(error.code).toBe('E_TARGET');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(JSON.stringify(spec));
    expect(error.message).not.toContain('\n');
  });
  it('reads a targets file with comments', async ({ onTestFinished }) => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-targets-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'targets.txt');
    writeFileSync(file, '# lab hosts\n127.0.0.1\n\n127.0.0.2 # second\n');
    expect(await readTargetsFile(file)).toEqual(['127.0.0.1', '127.0.0.2']);
    await expect(readTargetsFile(join(dir, 'missing.txt'))).rejects.toThrow(/--targets-file .*ENOENT/);
  });
});
