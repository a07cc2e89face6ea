/**
 * Host status, decided before port states are read (nmap's "Host seems down"): a host that was
 * never seen says nothing about its listeners. Today every scanned host counts as up, as with
 * nmap -Pn; the rules for down (no answer on any port) and unreachable (ICMP host/net
 * unreachable, no route) go here, and the run's exit code reads them from here.
 */
import type { HostScan } from '../model/port-state.js';

export type HostStatus = 'up' | 'down' | 'unreachable';

export interface HostVerdict {
  target: string;
  address: string;
  status: HostStatus;
}

export function decideHostStatus(host: HostScan): HostVerdict {
  return { target: host.target, address: host.address, status: 'up' };
}
