import { describe, expect, it } from 'vitest';
import { parseInventoryText } from '../../../src/audit/inventory.js';
import { mergeAudits } from '../../../src/audit/merge.js';
import type { AuditHost, AuditResult } from '../../../src/audit/model.js';
import { planAudit } from '../../../src/audit/plan.js';
import { assembleAudit, runAudit } from '../../../src/audit/run-audit.js';
import { assignShards, parseShard } from '../../../src/audit/shard.js';
import { combineExitCodes } from '../../../src/audit/verdict.js';
import { PortmatrixError } from '../../../src/errors.js';
import { buildResult, conformantHost, driftedHost, WAIVER_POLICY } from '../conformance/sample.js';

function errorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(PortmatrixError);
    expect((error as PortmatrixError).exitCode).toBe(2);
    return (error as PortmatrixError).message;
  }
  throw new Error('no error');
}

describe('inventory', () => {
  it('applies defaults (tags joined) and says what is wrong where', () => {
    const entries = parseInventoryText('schemaVersion: 1\ndefaults: { matrix: cms-r20, tags: [prod] }\nhosts:\n  - { address: 198.18.0.2, tags: [dc1] }\n  - { cidr: 198.18.0.8/30, matrix: ip-office-9.1 }\n', 'f.yaml');
    expect(entries).toMatchObject([
      { address: '198.18.0.2', matrix: 'cms-r20', tags: ['prod', 'dc1'], where: 'hosts[0]' },
      { cidr: '198.18.0.8/30', matrix: 'ip-office-9.1', tags: ['prod'], where: 'hosts[1]' },
    ]);
    expect(errorOf(() => parseInventoryText('schemaVersion: 1\nhosts:\n  - { address: 198.18.0.2, profile: turbo }\n', 'f.yaml'))).toMatch(/^f\.yaml:3:\d+: hosts\[0\]\.profile: /);
    expect(errorOf(() => parseInventoryText('schemaVersion: 1\nhosts:\n  - { site: x }\n', 'f.yaml'))).toMatch(/^f\.yaml:3:\d+: hosts\[0\]: give exactly one of address or cidr/);
    expect(errorOf(() => parseInventoryText('schemaVersion: 1\nhosts: []\n', 'f.yaml'))).toMatch(/^f\.yaml:2:\d+: hosts: must list at least/);
  });

  it('expands CIDR groups to one host per address, refuses a host listed twice, selects by site', async () => {
    const entries = parseInventoryText('schemaVersion: 1\nhosts:\n  - { cidr: 198.18.0.8/30, site: a }\n  - { address: 198.18.0.20, site: b }\n', 'f.yaml');
    const { all, selected } = await planAudit(entries, { inventoryDir: '/', maxHosts: 16, sites: ['b'] });
    expect(all.map((host) => host.address)).toEqual(['198.18.0.9', '198.18.0.10', '198.18.0.20']);
    expect(selected.map((host) => host.address)).toEqual(['198.18.0.20']);
    const twice = parseInventoryText('schemaVersion: 1\nhosts:\n  - { cidr: 198.18.0.8/30 }\n  - { address: 198.18.0.9 }\n', 'f.yaml');
    // (a /30 holds two hosts: network and broadcast addresses are left out)
    await expect(planAudit(twice, { inventoryDir: '/', maxHosts: 16 })).rejects.toThrow('inventory hosts[1]: 198.18.0.9 is already in hosts[0]');
  });
});

describe('shards', () => {
  const items = Array.from({ length: 40 }, (_, index) => ({ key: `198.18.0.${index}`, cost: index % 3 === 0 ? 218 : 17 }));

  it('partition the hosts deterministically, balanced by cost', () => {
    const first = assignShards(items, 3);
    const again = assignShards([...items].reverse(), 3);
    for (const item of items) expect(again.get(item)).toBe(first.get(item));
    const loads = [1, 2, 3].map((shard) => items.filter((item) => first.get(item) === shard).reduce((sum, item) => sum + item.cost, 0));
    expect(loads.reduce((a, b) => a + b)).toBe(items.reduce((sum, item) => sum + item.cost, 0));
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(218);
  });

  it('take i/n from the command line and refuse anything else', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['0/3', '4/3', '1/0', 'x', '1-3']) expect(errorOf(() => parseShard(bad))).toMatch(/expected i\/n with 1 <= i <= n/);
  });
});

function audit(hosts: AuditHost[], fields: Partial<AuditResult> = {}): AuditResult {
  return {
    ...assembleAudit({
      startedAt: '2025-06-01T12:00:00.000Z',
      finishedAt: '2025-06-01T12:01:00.000Z',
      complete: true,
      inventory: { file: 'fleet.yaml', sha256: 'abc', hosts: 2 },
      parameters: { parallel: 2, warnWaiverDays: 14 },
      hosts,
      now: new Date('2025-12-20T00:00:00Z'),
    }),
    ...fields,
  };
}

function host(address: string, result = buildResult({ hosts: [{ ...conformantHost(), target: address, address }] }), exitCode = 0): AuditHost {
  return { address, tags: [], exitCode, result };
}

describe('merge and verdict', () => {
  it('joins shards, keeps each host, and combines exit codes (130 > 3 > 1 > 0)', () => {
    const merged = mergeAudits([audit([host('198.18.0.2')], { shard: { index: 1, count: 2 } }), audit([host('198.18.0.1', undefined, 1)], { shard: { index: 2, count: 2 } })], {
      allowMixedMatrices: false,
      now: new Date(),
      files: ['a.json', 'b.json'],
    });
    expect(merged.hosts.map((h) => h.address)).toEqual(['198.18.0.1', '198.18.0.2']);
    expect(merged.shard).toBeUndefined();
    expect(merged.exitCode).toBe(1);
    expect(combineExitCodes([0, 1, 3])).toBe(3);
    expect(combineExitCodes([1, 130, 3])).toBe(130);
  });

  it('refuses a host judged against different matrix versions unless allowed', () => {
    const other = buildResult({ hosts: [{ ...conformantHost(), target: '198.18.0.2', address: '198.18.0.2' }] });
    other.conformance = { ...other.conformance!, matrix: { ...other.conformance!.matrix, version: '11.0' } };
    const parts = [audit([host('198.18.0.2')]), audit([host('198.18.0.2', other)])];
    expect(errorOf(() => mergeAudits(parts, { allowMixedMatrices: false, now: new Date(), files: ['a.json', 'b.json'] }))).toMatch(
      /^merge: 198\.18\.0\.2 was judged against ip-office-9\.1 \(.* 9\.1\) in a\.json and ip-office-9\.1 \(.* 11\.0\) in b\.json$/,
    );
    expect(mergeAudits(parts, { allowMixedMatrices: true, now: new Date(), files: [] }).hosts).toHaveLength(2);
  });

  it('lists waivers that expire within the warning window as notices', () => {
    const waived = buildResult({ hosts: [driftedHost()], policy: WAIVER_POLICY });
    const expiring = audit([host(driftedHost().address, waived, 1)]).expiringWaivers;
    expect(expiring.map((waiver) => `${waiver.transport}/${waiver.port} ${waiver.expires} ${waiver.daysLeft}`)).toEqual(['tcp/8080 2025-12-31 12']);
  });
});

describe('runAudit', () => {
  it('runs hosts at once up to --parallel, fewer when their planned ports pass the memory budget, and keeps inventory order', async () => {
    const plannedHost = (index: number, ports: number) => ({ key: `198.18.0.${index}`, address: `198.18.0.${index}`, family: 4 as const, tags: [], settings: { profile: 'fast' as const }, cost: 1, ports, where: `hosts[${index}]` });
    const widest = async (ports: number, parallel: number) => {
      let running = 0;
      let most = 0;
      const hosts = Array.from({ length: 8 }, (_, index) => plannedHost(index + 1, ports));
      const audit = await runAudit({
        hosts,
        parallel,
        socketBudget: 10_000,
        portsInFlight: 160_000,
        inventory: { file: 'f.yaml', sha256: 'x', hosts: 8 },
        warnWaiverDays: 14,
        runHost: async (host) => {
          most = Math.max(most, ++running);
          // Later hosts finish first: the result still lists them in inventory order.
          await new Promise((resolve) => setTimeout(resolve, 40 - Number(host.address.split('.')[3]) * 4));
          running--;
          return { result: buildResult({ hosts: [{ ...conformantHost(), target: host.address, address: host.address }] }), exitCode: 0 };
        },
      });
      expect(audit.hosts.map((h) => h.address)).toEqual(hosts.map((h) => h.address));
      return { most, parallel: audit.parameters.parallel };
    };
    expect(await widest(5000, 32)).toEqual({ most: 8, parallel: 8 });
    expect(await widest(5000, 3)).toEqual({ most: 3, parallel: 3 });
    expect(await widest(65_535, 32)).toEqual({ most: 2, parallel: 2 });
  });
});
