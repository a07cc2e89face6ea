import { describe, expect, it } from 'vitest';
import type { Expectation } from '../../../src/matrix/expectation.js';
import { documentedUdpPorts } from '../../../src/matrix/documented-ports.js';
import { COMMON_UDP_PORTS, planUdpPorts } from '../../../src/scan/udp-plan.js';

function row(transport: 'tcp' | 'udp', start: number, end: number, dynamic = false): Expectation {
  return {
    transport, start, end, dynamic, state: 'open', optional: false, internal: false, protocol: 'UDP/X', component: 'c', description: '',
    ref: { matrix: 'm', document: 'd', rowId: 'r', table: 't', row: '1' },
  };
}

describe('planUdpPorts', () => {
  const expectations = [row('udp', 50795, 50795), row('tcp', 22, 22), row('udp', 40750, 50750, true), row('udp', 161, 161)];

  it('matrix: the documented UDP ports (no dynamic media ranges, no TCP) plus our common UDP services', () => {
    const ports = planUdpPorts('matrix', documentedUdpPorts(expectations));
    expect(ports).toContain(50795);
    expect(ports).not.toContain(22);
    expect(ports).not.toContain(45000);
    for (const port of [5060, 4569, 2427, 1718, 1719, 3478, 161, 162, 514, 123, 69, 67, 68, 53, 1812, 500, 4500, 1701, 520]) expect(ports).toContain(port);
    expect(ports).toEqual([...new Set(ports)].sort((a, b) => a - b));
    expect(planUdpPorts('MATRIX', [])).toEqual([...COMMON_UDP_PORTS].sort((a, b) => a - b));
  });

  it('all, none and specs', () => {
    expect(planUdpPorts('none', documentedUdpPorts(expectations))).toEqual([]);
    expect(planUdpPorts('all', documentedUdpPorts(expectations))).toHaveLength(65535);
    expect(planUdpPorts('161,5060-5062', documentedUdpPorts(expectations))).toEqual([161, 5060, 5061, 5062]);
    expect(() => planUdpPorts('70000', documentedUdpPorts(expectations))).toThrow(/--udp "70000": port 70000 is outside 1-65535/);
  });

  it('documentedUdpPorts lists each documented UDP port once', () => {
    expect(documentedUdpPorts([...expectations, row('udp', 161, 161)])).toEqual([161, 50795]);
  });
});
