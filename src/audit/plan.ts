/**
 * From inventory entries to the hosts of this run: CIDR groups and names expanded to addresses
 * (each host audited on its own), file paths made relative to the inventory, duplicates refused,
 * then --site and --shard applied. Each host carries a cost (ports over the profile's rate), so
 * shards balance the work, not the count.
 */
import path from 'node:path';
import { PROFILES, DEFAULT_PROFILE } from '../defaults.js';
import { PortmatrixError } from '../errors.js';
import { countPorts, parsePortSpec } from '../model/port-range.js';
import { resolveTargets, type NameResolver } from '../scan/targets.js';
import type { InventoryEntry, HostSettings } from './inventory.js';
import { selectShard, type Shard } from './shard.js';

export interface PlannedHost {
  /** The address: the host's key everywhere (shards, merge, diff). */
  key: string;
  address: string;
  family: 4 | 6;
  name?: string;
  site?: string;
  tags: string[];
  /** The entry's settings, with matrix and policy files resolved against the inventory's folder. */
  settings: HostSettings;
  /** Expected work in seconds at the profile's rate (for balancing shards). */
  cost: number;
  /** Planned ports (TCP; 'matrix' estimated): what the host's scan holds in memory while it runs. */
  ports: number;
  where: string;
}

export interface PlanAuditOptions {
  /** Folder of the inventory file: relative matrix and policy paths are taken from it. */
  inventoryDir: string;
  maxHosts: number;
  sites?: readonly string[];
  shard?: Shard;
  resolve?: NameResolver;
}

/** A matrix is a built-in id unless it looks like a file. */
function looksLikeFile(matrix: string): boolean {
  return matrix.includes('/') || /\.ya?ml$/i.test(matrix);
}

const MATRIX_PORTS_ESTIMATE = 100;
const UNCAPPED_RATE = 20_000;

function estimatePorts(settings: HostSettings): number {
  const spec = settings.ports ?? 'all';
  const parsed = spec === 'all' ? 65_535 : spec === 'none' ? 0 : spec === 'matrix' ? MATRIX_PORTS_ESTIMATE : parsePortSpec(spec);
  return typeof parsed === 'number' ? parsed : parsed.ok ? countPorts(parsed.ranges) : 0;
}

function estimateCost(settings: HostSettings): number {
  return estimatePorts(settings) / (PROFILES[settings.profile ?? DEFAULT_PROFILE].maxRatePerSecond || UNCAPPED_RATE);
}

export async function planAudit(entries: readonly InventoryEntry[], options: PlanAuditOptions): Promise<{ all: PlannedHost[]; selected: PlannedHost[] }> {
  const all: PlannedHost[] = [];
  const seen = new Map<string, string>();
  for (const entry of entries) {
    const { where, name, address, cidr, ...settings } = entry;
    if (settings.matrix !== undefined && looksLikeFile(settings.matrix)) settings.matrix = path.resolve(options.inventoryDir, settings.matrix);
    if (settings.policy !== undefined) settings.policy = path.resolve(options.inventoryDir, settings.policy);
    const spec = cidr ?? address ?? '';
    const targets = await resolveTargets([spec], { maxHosts: options.maxHosts, ...(options.resolve ? { resolve: options.resolve } : {}) }).catch((error: unknown) => {
      throw error instanceof PortmatrixError ? new PortmatrixError(error.code, `inventory ${where}: ${error.message}`, { ...(error.hint ? { hint: error.hint } : {}), cause: error }) : error;
    });
    for (const target of targets) {
      const earlier = seen.get(target.address);
      if (earlier) {
        throw new PortmatrixError('E_USAGE', `inventory ${where}: ${target.address} is already in ${earlier}`, { hint: 'list each host once' });
      }
      seen.set(target.address, where);
      all.push({
        key: target.address,
        address: target.address,
        family: target.family,
        ...(name === undefined ? {} : { name }),
        ...(entry.site === undefined ? {} : { site: entry.site }),
        tags: entry.tags,
        settings,
        cost: estimateCost(settings),
        ports: estimatePorts(settings),
        where,
      });
    }
    if (all.length > options.maxHosts) {
      throw new PortmatrixError('E_USAGE', `the inventory holds more than ${options.maxHosts} hosts`, { hint: 'raise the cap with --max-hosts' });
    }
  }
  const sites = options.sites ?? [];
  const bySite = sites.length === 0 ? all : all.filter((host) => host.site !== undefined && sites.includes(host.site));
  if (bySite.length === 0) {
    throw new PortmatrixError('E_USAGE', `no host of the inventory is at --site ${sites.join(',')}`, {
      hint: `sites in the inventory: ${[...new Set(all.flatMap((host) => (host.site ? [host.site] : [])))].join(', ') || 'none'}`,
    });
  }
  return { all, selected: options.shard ? selectShard(bySite, options.shard) : bySite };
}
