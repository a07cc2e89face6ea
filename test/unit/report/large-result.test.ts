/**
 * Every renderer on the largest result a scan can make per host: all 65535 TCP and 65535 UDP
 * ports listed (nothing folded: alternating states), with hostile banners, and on many hosts.
 * No renderer may spread such a list into a call (stack overflow) or recurse over it.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RENDERERS } from '../../../src/report/index.js';
import type { ScanResult } from '../../../src/result/model.js';
import type { HostScan, Observation } from '../../../src/model/port-state.js';
import { buildResult } from '../conformance/sample.js';
import { itNeeding } from '../../helpers/requirements.js';

function everyPortListed(target: string): HostScan {
  const observations: Observation[] = [];
  for (const transport of ['tcp', 'udp'] as const) {
    for (let port = 1; port <= 65535; port++) {
      const open = port % 1000 === 0;
      observations.push(
        open
          ? { transport, port, state: 'open', reason: transport === 'tcp' ? 'syn-ack' : 'udp-response', rttMs: 1, attempts: 1, banner: `srv\uffff\u0000<x>\u001b[2J${port}` }
          : port % 2 === 0
            ? { transport, port, state: 'closed', reason: transport === 'tcp' ? 'conn-refused' : 'icmp-port-unreach', rttMs: 1, attempts: 1 }
            : { transport, port, state: 'filtered', reason: 'no-response', rttMs: null, attempts: 3 },
      );
    }
  }
  return { target, address: target, family: 4, plan: { tcp: '1-65535', udp: '1-65535' }, observations, folded: [], complete: true, status: { state: 'up', reason: 'port-answered' } };
}

function assertWellFormedXml(xml: string): void {
  execFileSync('xmllint', ['--noout', '--huge', '-'], { input: xml, maxBuffer: 1024 ** 3, stdio: ['pipe', 'pipe', 'pipe'] });
}

describe('renderers on 131,070 observations per host', () => {
  const host = everyPortListed('198.18.0.7');
  const withMatrix = buildResult({ hosts: [host] });
  const { conformance: _dropped, ...withoutMatrix } = withMatrix;
  const results: [string, ScanResult][] = [
    ['with a matrix', withMatrix],
    ['without a matrix', withoutMatrix as ScanResult],
  ];

  for (const [name, result] of results) {
    itNeeding(`every format renders it (${name}); the XML formats are well-formed`, { tools: ['xmllint'] }, () => {
      for (const [format, render] of Object.entries(RENDERERS)) {
        const text = render(result);
        expect(text.length, format).toBeGreaterThan(1000);
        expect(text, format).not.toContain('\u001b');
        if (format === 'junit' || format === 'nmap-xml') assertWellFormedXml(text);
      }
    });
  }

  it('256 hosts: every format renders one result holding them all', () => {
    // The same observation list on every host keeps the test's own memory small; the renderers walk each host anew.
    const small = everyPortListed('198.18.0.7').observations.filter((observation) => observation.port <= 64);
    const hosts = Array.from({ length: 256 }, (_, index) => ({ ...host, target: `198.18.1.${index}`, address: `198.18.1.${index}`, observations: small }));
    const result = buildResult({ hosts });
    for (const [format, render] of Object.entries(RENDERERS)) expect(render(result).length, format).toBeGreaterThan(256 * 100);
  });
});
