/**
 * Host status as the run reads it. The engine decides each host's status once, from its probes
 * (src/scan/host-status.ts: up, down or unreachable with the evidence; --assume-up applies
 * there), so that an unroutable address is never probed; the run turns the statuses into
 * verdicts, and the exit code reads them (src/run/exit-code.ts).
 */
import type { HostScan, HostState } from '../model/port-state.js';

export interface HostVerdict {
  target: string;
  address: string;
  status: HostState;
}

export function decideHostStatus(host: HostScan): HostVerdict {
  return { target: host.target, address: host.address, status: host.status.state };
}
