/**
 * Acceptance of fleet audits on six emulated hosts in namespaces (three matrices, drift on two):
 * one `portmatrix audit` run and the same inventory as three shards joined by `portmatrix merge`
 * give the same findings per host; after one listener is added and one removed on a third host,
 * `portmatrix diff` of the two audits reports exactly those two changes.
 * Each host scans the TCP ports its matrix documents plus two drift ports (UDP is covered by the
 * scan tests), so the three audits take seconds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AuditResult } from '../../src/audit/model.js';
import { parseDriftSpec } from '../../src/emulator/drift.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/emulator.js';
import { describeNetns } from '../helpers/netns.js';
import { type CliRun, runPortmatrixSync } from '../helpers/cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-audit-'));
const EXTRA = 31337;
const ADDED = 31338;

interface HostSpec {
  name: string;
  site: string;
  matrix: string;
  components: string[];
  platform: string;
  drift?: string;
}

const HOSTS: HostSpec[] = [
  { name: 'ipo-ok', site: 'berlin', matrix: 'ip-office-9.1', components: ['ip-office'], platform: 'ip500v2' },
  { name: 'ipo-drift', site: 'berlin', matrix: 'ip-office-9.1', components: ['ip-office'], platform: 'ip500v2', drift: `extra:tcp/${EXTRA},missing:tcp/8000` },
  { name: 'cms-ok', site: 'paris', matrix: 'cms-r20', components: ['cms'], platform: 'linux' },
  { name: 'cms-drift', site: 'paris', matrix: 'cms-r20', components: ['cms'], platform: 'linux', drift: `extra:tcp/${EXTRA}` },
  { name: 'aacc-a', site: 'dublin', matrix: 'aacc-7.1.2', components: ['contact-center'], platform: 'windows' },
  { name: 'aacc-b', site: 'dublin', matrix: 'aacc-7.1.2', components: ['contact-center'], platform: 'windows' },
];
const targets: RunningEmulator[] = [];

afterAll(async () => {
  await Promise.all(targets.map((target) => target.stop()));
  rmSync(work, { recursive: true, force: true });
});

function portmatrix(...args: string[]): CliRun {
  return runPortmatrixSync(args, { cwd: work, timeoutMs: 120_000 });
}

function readAudit(file: string): AuditResult {
  return JSON.parse(readFileSync(path.join(work, file), 'utf8')) as AuditResult;
}

/** Per host address: its findings as kind, port, observed state, severity and row. */
function findingsByHost(audit: AuditResult): Record<string, string[]> {
  return Object.fromEntries(
    audit.hosts.map((host) => [
      host.address,
      (host.result.conformance?.findings ?? []).map((f) => `${f.kind} ${f.transport}/${f.port} ${f.observed} ${f.severity} ${f.ref?.rowId ?? '-'}`).sort(),
    ]),
  );
}

describeNetns('portmatrix audit, shards and merge, diff of two audits', () => {
  beforeAll(async () => {
    targets.push(
      ...(await Promise.all(
        HOSTS.map((host) =>
          startEmulator({ matrix: host.matrix, components: host.components, platform: host.platform, ...(host.drift ? { drift: parseDriftSpec(host.drift) } : {}), label: host.name }),
        ),
      )),
    );
    const entries = HOSTS.map((host, index) => {
      const documented = targets[index]!.expectations.filter((e) => e.transport === 'tcp' && !e.dynamic).map((e) => (e.start === e.end ? `${e.start}` : `${e.start}-${e.end}`));
      return [
        `  - name: ${host.name}`,
        `    address: ${targets[index]!.address}`,
        `    site: ${host.site}`,
        `    matrix: ${host.matrix}`,
        `    components: [${host.components.join(', ')}]`,
        `    platform: ${host.platform}`,
        `    ports: "${[...documented, EXTRA, ADDED].join(',')}"`,
      ].join('\n');
    });
    writeFileSync(path.join(work, 'fleet.yaml'), `schemaVersion: 1\ndefaults:\n  profile: normal\n  udp: none\n  tags: [acceptance]\nhosts:\n${entries.join('\n')}\n`);
  }, 90_000);

  it('one run and three merged shards give the same findings per host; drift shows on exactly the two drifted hosts', () => {
    const whole = portmatrix('audit', 'fleet.yaml', '--output', 'whole', '--no-progress');
    expect(whole.status, whole.stderr).toBe(1);
    const audit = readAudit('whole/audit.json');
    expect(audit.hosts).toHaveLength(6);
    const failing = audit.hosts.filter((host) => host.exitCode === 1).map((host) => host.name);
    expect(failing.sort()).toEqual(['cms-drift', 'ipo-drift']);
    const byName = Object.fromEntries(audit.hosts.map((host) => [host.name, findingsByHost(audit)[host.address]!]));
    expect(byName['ipo-drift']!.filter((line) => !line.startsWith('conformant') && !line.includes(' notice '))).toEqual([
      expect.stringMatching(/^extra-listener tcp\/31337 open error/),
      expect.stringMatching(/^missing-listener tcp\/8000 closed error/),
    ]);
    const shardHosts: string[] = [];
    for (const part of [1, 2, 3]) {
      const shard = portmatrix('audit', 'fleet.yaml', '--shard', `${part}/3`, '--output', `shard-${part}`, '--no-progress');
      expect([0, 1], shard.stderr).toContain(shard.status);
      const hosts = readAudit(`shard-${part}/audit.json`).hosts;
      expect(hosts.length).toBeGreaterThan(0);
      shardHosts.push(...hosts.map((host) => host.address));
    }
    // The shards partition the inventory: every host in exactly one.
    expect(shardHosts.sort()).toEqual(audit.hosts.map((host) => host.address).sort());
    const merged = portmatrix('merge', 'shard-1/audit.json', 'shard-2/audit.json', 'shard-3/audit.json', '--output', 'merged');
    expect(merged.status, merged.stderr).toBe(1);
    const joined = readAudit('merged/audit.json');
    expect(findingsByHost(joined)).toEqual(findingsByHost(audit));
    // Each host keeps where it was scanned from.
    for (const host of joined.hosts) expect(host.result.vantage.sourceAddresses).toHaveLength(1);
    expect(joined.parts).toHaveLength(3);
    expect(readFileSync(path.join(work, 'merged/index.html'), 'utf8').match(/<a href="hosts\//g)).toHaveLength(6);
    expect(readFileSync(path.join(work, 'merged/audit.junit.xml'), 'utf8').match(/<testsuite /g)).toHaveLength(6);
  }, 240_000);

  it('diff of two audits reports exactly one listener added and one removed', async () => {
    const changed = targets[0]!;
    const removed = changed.expectations.find((e) => e.transport === 'tcp' && e.state === 'open' && !e.optional && !e.internal && !e.dynamic)!.start;
    // The listener goes away (the port now answers with a reset), and a new one opens.
    await changed.host!.nft(`table inet audit_drift { chain in { type filter hook input priority -10; tcp dport ${removed} reject with tcp reset; }; }`);
    const listener = changed.host!.spawn([process.execPath, '-e', `require('node:net').createServer().listen(${ADDED}, '${changed.address}', () => console.log('up'))`]);
    await new Promise<void>((resolve) => listener.stdout!.once('data', () => resolve()));
    const again = portmatrix('audit', 'fleet.yaml', '--output', 'again', '--no-progress');
    expect(again.status, again.stderr).toBe(1);
    const diff = portmatrix('diff', 'whole/audit.json', 'again/audit.json', '--format', 'json');
    expect(diff.status, diff.stderr).toBe(1);
    const drift = JSON.parse(diff.stdout) as { hosts: { address?: string; target?: string; status: string; ports: unknown[]; appeared: { kind: string; port: number }[]; resolved: unknown[]; changed: unknown[] }[] };
    const moved = drift.hosts.filter((host) => host.status !== 'unchanged');
    expect(moved).toHaveLength(1);
    expect(moved[0]!.ports).toEqual([
      { transport: 'tcp', port: removed, before: 'open', after: 'closed' },
      { transport: 'tcp', port: ADDED, before: 'closed', after: 'open' },
    ].sort((a, b) => a.port - b.port));
    expect(moved[0]!.appeared.map((finding) => `${finding.kind} ${finding.port}`).sort()).toEqual([`extra-listener ${ADDED}`, `missing-listener ${removed}`].sort());
    expect(moved[0]!.resolved).toEqual([]);
    expect(moved[0]!.changed).toEqual([]);
  }, 120_000);
});
