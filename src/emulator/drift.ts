/**
 * Drift: deliberate deviations of an emulated target from its matrix, so that tests and the
 * demo can check that each kind of finding is reported. Written as "kind:transport/port,...",
 * e.g. "extra:tcp/31337,missing:tcp/22,toggle:tcp/80,expose:tcp/4444,silent:udp/161,reach:tcp/4097,
 * plain:tcp/443,oldtls:tcp/8443" (the last two: a documented TLS service answering in plain text,
 * or offering TLS 1.0 alone, for the service checks).
 */
import { portKey, type Transport } from '../model/port-state.js';

export interface PortRef {
  transport: Transport;
  port: number;
}

export interface DriftSpec {
  /** Listeners on ports no row documents (inside a documented dynamic range: a dynamic port open). */
  extraListeners?: PortRef[];
  /** Documented open listeners that are not running. */
  missingListeners?: PortRef[];
  /** Optional ports whose default the customer changed (open -> closed, closed -> open). */
  toggledOptional?: PortRef[];
  /** Intra-device ports reachable from outside. */
  exposedInternal?: PortRef[];
  /** Documented-open UDP ports whose listener runs but answers nothing (e.g. SNMP with another community). */
  silentListeners?: PortRef[];
  /** Documented-filtered ports that the firewall lets through to a listener. */
  reachableFiltered?: PortRef[];
  /** Documented TLS services (HTTPS, SIPS, TLS ...) that answer in plain text instead (HTTP on the HTTPS port). */
  plainServices?: PortRef[];
  /** Documented TLS services that offer TLS 1.0 and nothing newer. */
  oldTlsServices?: PortRef[];
}

const FIELDS = {
  extra: 'extraListeners',
  missing: 'missingListeners',
  toggle: 'toggledOptional',
  expose: 'exposedInternal',
  silent: 'silentListeners',
  reach: 'reachableFiltered',
  plain: 'plainServices',
  oldtls: 'oldTlsServices',
} as const satisfies Record<string, keyof DriftSpec>;

const KINDS = Object.keys(FIELDS) as (keyof typeof FIELDS)[];
const ITEM = new RegExp(`^(${KINDS.join('|')}):(tcp|udp)/(\\d{1,5})$`);

export function parseDriftSpec(text: string): DriftSpec {
  const drift: DriftSpec = {};
  for (const item of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const match = ITEM.exec(item);
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65535) {
      throw new Error(`drift "${item}": expected kind:transport/port with kind ${KINDS.join('|')}, e.g. extra:tcp/31337`);
    }
    const field = FIELDS[match[1] as keyof typeof FIELDS];
    (drift[field] ??= []).push({ transport: match[2] as Transport, port });
  }
  return drift;
}

export function formatDriftSpec(drift: DriftSpec): string {
  return (Object.entries(FIELDS) as [keyof typeof FIELDS, keyof DriftSpec][])
    .flatMap(([kind, field]) => (drift[field] ?? []).map((ref) => `${kind}:${ref.transport}/${ref.port}`))
    .join(',');
}

export function refKey(ref: PortRef): string {
  return portKey(ref.transport, ref.port);
}

/** The drift asked for, as sets of port keys. */
export interface DriftPorts {
  missing: Set<string>;
  toggled: Set<string>;
  exposed: Set<string>;
  silent: Set<string>;
  reachable: Set<string>;
  plain: Set<string>;
  oldTls: Set<string>;
}

export function driftPorts(drift: DriftSpec): DriftPorts {
  const keys = (refs: readonly PortRef[] | undefined): Set<string> => new Set((refs ?? []).map(refKey));
  return {
    missing: keys(drift.missingListeners),
    toggled: keys(drift.toggledOptional),
    exposed: keys(drift.exposedInternal),
    silent: keys(drift.silentListeners),
    reachable: keys(drift.reachableFiltered),
    plain: keys(drift.plainServices),
    oldTls: keys(drift.oldTlsServices),
  };
}
