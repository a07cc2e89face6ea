/**
 * describeNetns: a describe() for tests that need network namespaces (root, iproute2, nftables,
 * and for impaired paths the NFQUEUE delayer's tools). Without them the block is skipped and
 * named in the summary at the end of the run; under CI=true a missing need is a failure.
 */
import { beforeAll } from 'vitest';
import { NAMESPACE_TOOLS, removeStaleTestHosts } from '../../src/emulator/netns.js';
import { describeNeeding, type Needs } from './requirements.js';

/** What impairPath's delay needs on top (iptables NFQUEUE and the delayer compiled at first use). */
export const IMPAIRMENT_TOOLS = ['iptables-legacy', 'gcc', '/usr/include/linux/netfilter/nfnetlink_queue.h'] as const;

export function describeNetns(title: string, fn: () => void, extraTools: readonly string[] = [], extraNeeds: Omit<Needs, 'root' | 'tools'> = {}): void {
  describeNeeding(title, { ...extraNeeds, root: true, tools: [...NAMESPACE_TOOLS.map((tool) => tool.command), ...extraTools] }, () => {
    // Leftovers of a crashed earlier run (dead creating pid) must not confuse this one.
    beforeAll(async () => {
      await removeStaleTestHosts();
    });
    fn();
  });
}
