/** The one exit code of an audit, and the waivers about to expire. Pure. */
import type { AuditHost, ExpiringWaiver } from './model.js';

/** Worst first: interrupted (128+signal), a host not judged (3), findings (1), conformant (0). */
const PRECEDENCE = [3, 1, 0];

export function combineExitCodes(codes: readonly number[]): number {
  const stopped = codes.find((code) => code >= 128);
  if (stopped !== undefined) return stopped;
  for (const code of PRECEDENCE) if (codes.includes(code)) return code;
  return codes.length === 0 ? 0 : Math.max(...codes);
}

const DAY_MS = 86_400_000;

/** Live waivers that matched a finding and lapse within `days` days of `now` (a waiver holds through its expiry day, UTC). */
export function findExpiringWaivers(hosts: readonly AuditHost[], now: Date, days: number): ExpiringWaiver[] {
  const seen = new Set<string>();
  const expiring: ExpiringWaiver[] = [];
  for (const host of hosts) {
    for (const finding of host.result.conformance?.findings ?? []) {
      const waiver = finding.waiver;
      if (!waiver || waiver.expired) continue;
      const endOfDay = Date.parse(`${waiver.expires}T00:00:00Z`) + DAY_MS;
      const daysLeft = Math.ceil((endOfDay - now.getTime()) / DAY_MS);
      const key = `${host.address} ${finding.transport}/${finding.port} ${waiver.expires} ${waiver.ticket ?? ''}`;
      if (daysLeft > days || seen.has(key)) continue;
      seen.add(key);
      expiring.push({
        address: host.address,
        transport: finding.transport,
        port: finding.port,
        ...(waiver.ticket === undefined ? {} : { ticket: waiver.ticket }),
        reason: waiver.reason,
        expires: waiver.expires,
        daysLeft,
      });
    }
  }
  return expiring.sort((a, b) => a.daysLeft - b.daysLeft || (a.address < b.address ? -1 : 1) || a.port - b.port);
}
