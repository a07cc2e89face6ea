/**
 * `audit --shard i/n`: a deterministic, balanced part of the inventory, so N job runners
 * (Kubernetes Indexed Job pods, CI matrix jobs, per-site timers) each scan their own hosts and
 * a merge step joins the parts. Balanced by expected work, not by count: hosts go, largest cost
 * first (ports / the profile's rate), to the shard with the least work so far (ties: the lower
 * index); equal costs in address order. The same inventory and n always give the same parts,
 * every host is in exactly one, and the heaviest part exceeds the lightest by at most one host's cost. Pure.
 */
import { PortmatrixError } from '../errors.js';

export interface Shard {
  /** 1-based, as users count (`--shard 1/3` .. `3/3`). */
  index: number;
  count: number;
}

/** "2/3" -> { index: 2, count: 3 }; "0/3", "4/3", "x" are usage errors. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count || count > 10_000) {
    throw new PortmatrixError('E_USAGE', `--shard ${JSON.stringify(text)}: expected i/n with 1 <= i <= n`, {
      hint: 'e.g. --shard 1/3; in a Kubernetes Indexed Job: --shard $((JOB_COMPLETION_INDEX + 1))/$N',
    });
  }
  return { index, count };
}

/** The shard (1-based) of every item: items carry a stable key and a cost. */
export function assignShards<T extends { key: string; cost: number }>(items: readonly T[], count: number): Map<T, number> {
  const order = [...items].sort((a, b) => b.cost - a.cost || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const load = Array.from({ length: count }, () => 0);
  const assigned = new Map<T, number>();
  for (const item of order) {
    let lightest = 0;
    for (let shard = 1; shard < count; shard++) if (load[shard]! < load[lightest]!) lightest = shard;
    load[lightest]! += item.cost;
    assigned.set(item, lightest + 1);
  }
  return assigned;
}

export function selectShard<T extends { key: string; cost: number }>(items: readonly T[], shard: Shard): T[] {
  const assigned = assignShards(items, shard.count);
  return items.filter((item) => assigned.get(item) === shard.index);
}
