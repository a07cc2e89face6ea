/**
 * Canonical port specs: "22", "5060-5061", "5488,5489", "1-1024,5060,50790-50820".
 * Used by matrix files, --ports and --udp. Pure; errors are returned, not thrown,
 * so each caller can say where the spec came from (file:line, option, target).
 */
export interface PortRange {
  start: number;
  end: number;
}

export type PortSpecParse = { ok: true; ranges: PortRange[] } | { ok: false; error: string };

export const MIN_PORT = 1;
export const MAX_PORT = 65535;

function parsePort(text: string): number | string {
  if (!/^\d+$/.test(text)) return `"${text}" is not a port number`;
  const port = Number(text);
  if (port < MIN_PORT || port > MAX_PORT) return `port ${text} is outside ${MIN_PORT}-${MAX_PORT}`;
  return port;
}

/** Parses a comma-separated list of ports and ranges. Whitespace around items is allowed. */
export function parsePortSpec(spec: string): PortSpecParse {
  const items = spec.split(',').map((item) => item.trim());
  if (spec.trim() === '' || items.some((item) => item === '')) {
    return { ok: false, error: `"${spec}" has an empty item; write ports like 22,80,1000-2000` };
  }
  const ranges: PortRange[] = [];
  for (const item of items) {
    const bounds = item.split('-').map((bound) => bound.trim());
    if (bounds.length > 2) return { ok: false, error: `"${item}" is not a port or a range` };
    const start = parsePort(bounds[0] ?? '');
    if (typeof start === 'string') return { ok: false, error: start };
    const end = bounds.length === 2 ? parsePort(bounds[1] ?? '') : start;
    if (typeof end === 'string') return { ok: false, error: end };
    if (end < start) return { ok: false, error: `range ${item} is reversed; write ${end}-${start}` };
    ranges.push({ start, end });
  }
  return { ok: true, ranges };
}

/** Merges overlapping and adjacent ranges and sorts them. */
export function normalizeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const merged: PortRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range.start <= last.end + 1) last.end = Math.max(last.end, range.end);
    else merged.push({ ...range });
  }
  return merged;
}

export function countPorts(ranges: readonly PortRange[]): number {
  return normalizeRanges(ranges).reduce((sum, range) => sum + range.end - range.start + 1, 0);
}

export function formatPortSpec(ranges: readonly PortRange[]): string {
  return normalizeRanges(ranges)
    .map((range) => (range.start === range.end ? `${range.start}` : `${range.start}-${range.end}`))
    .join(',');
}

export function rangesContain(ranges: readonly PortRange[], port: number): boolean {
  return ranges.some((range) => port >= range.start && port <= range.end);
}
