/** The one order of findings every report and comparison uses. */
import type { Finding } from './model.js';

/** Findings of one host: by transport, port, then matrix row (a stable order for every report). */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    compareText(a.transport, b.transport) ||
    a.port - b.port ||
    compareText(a.ref?.rowId ?? '', b.ref?.rowId ?? '') ||
    compareText(a.kind, b.kind)
  );
}

/** Code-unit order: the same on every machine, unlike localeCompare. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
