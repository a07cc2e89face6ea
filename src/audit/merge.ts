/**
 * `portmatrix merge`: audit parts (shards, or audits run from several vantage points) joined into
 * one audit. Each host keeps its own result, so its vantage point, matrix and findings stay as
 * they were scanned. A host in two parts judged against different matrix versions is refused
 * unless allowed (then both are kept); the same host twice under one matrix keeps the later
 * run. Pure.
 */
import { PortmatrixError } from '../errors.js';
import type { AuditHost, AuditResult } from './model.js';
import { assembleAudit } from './run-audit.js';

export interface MergeOptions {
  /** Keep a host judged against different matrix versions in different parts (both kept). */
  allowMixedMatrices: boolean;
  now: Date;
  /** The files the parts came from, for messages. */
  files: readonly string[];
}

function matrixOf(host: AuditHost): string {
  const matrix = host.result.conformance?.matrix;
  return matrix ? `${matrix.id} (${matrix.product} ${matrix.version})` : 'no matrix';
}

export function mergeAudits(parts: readonly AuditResult[], options: MergeOptions): AuditResult {
  if (parts.length === 0) throw new PortmatrixError('E_USAGE', 'merge: no audit results given', { hint: 'name the parts, e.g. portmatrix merge shard-*.json' });
  const byAddress = new Map<string, { host: AuditHost; file: string }[]>();
  parts.forEach((part, index) => {
    for (const host of part.hosts) {
      const file = options.files[index] ?? `part ${index + 1}`;
      const earlier = byAddress.get(host.address) ?? [];
      const conflicting = earlier.find((entry) => matrixOf(entry.host) !== matrixOf(host));
      if (conflicting && !options.allowMixedMatrices) {
        throw new PortmatrixError(
          'E_USAGE',
          `merge: ${host.address} was judged against ${matrixOf(conflicting.host)} in ${conflicting.file} and ${matrixOf(host)} in ${file}`,
          { hint: 'merge parts of one inventory, or pass --allow-mixed-matrices to keep both' },
        );
      }
      const same = earlier.findIndex((entry) => matrixOf(entry.host) === matrixOf(host));
      if (same === -1) earlier.push({ host, file });
      else if (host.result.startedAt >= earlier[same]!.host.result.startedAt) earlier[same] = { host, file };
      byAddress.set(host.address, earlier);
    }
  });
  const hosts = [...byAddress.values()].flat().map((entry) => entry.host);
  const first = parts[0]!;
  const inventories = new Set(parts.map((part) => part.inventory.sha256));
  const shardCounts = new Set(parts.map((part) => part.shard?.count));
  const covered = new Set(parts.flatMap((part) => (part.shard ? [part.shard.index] : [])));
  const wholeInventory = inventories.size === 1 && shardCounts.size === 1 && first.shard !== undefined && covered.size === first.shard.count;
  const complete = parts.every((part) => part.complete);
  return assembleAudit({
    startedAt: parts.map((part) => part.startedAt).sort()[0]!,
    finishedAt: parts.map((part) => part.finishedAt).sort().at(-1)!,
    complete,
    ...(complete ? {} : { incompleteReason: parts.flatMap((part, index) => (part.complete ? [] : [`${options.files[index] ?? `part ${index + 1}`}: ${part.incompleteReason ?? 'incomplete'}`])).join('; ') }),
    inventory: inventories.size === 1 ? first.inventory : { file: parts.map((part) => part.inventory.file).join(', '), sha256: 'several', hosts: hosts.length },
    parts: parts.map((part) => ({
      ...(part.shard ? { shard: part.shard } : {}),
      startedAt: part.startedAt,
      vantage: [...new Set(part.hosts.map((host) => host.result.vantage.hostname))].join(', ') || 'no hosts',
    })),
    ...(wholeInventory ? {} : first.shard && parts.length === 1 ? { shard: first.shard } : {}),
    parameters: { ...first.parameters, merged: parts.length, ...(wholeInventory ? {} : { partial: true }) },
    hosts: sortLikeInventory(hosts),
    now: options.now,
  });
}

/** Address order (numeric for IPv4), so a merge of shards reads like one run. */
function sortLikeInventory(hosts: AuditHost[]): AuditHost[] {
  const key = (address: string): string => (/^\d+\.\d+\.\d+\.\d+$/.test(address) ? address.split('.').map((part) => part.padStart(3, '0')).join('.') : `~${address}`);
  return hosts.sort((a, b) => (key(a.address) < key(b.address) ? -1 : key(a.address) > key(b.address) ? 1 : 0));
}
