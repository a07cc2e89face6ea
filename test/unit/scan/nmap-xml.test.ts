import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { itNeeding } from '../../helpers/requirements.js';
import { PortmatrixError } from '../../../src/errors.js';
import { renderNmapXml } from '../../../src/report/nmap-xml.js';
import { parseNmapXml } from '../../../src/scan/nmap-xml.js';
import { escapeXml } from '../../../src/util/untrusted-text.js';
import { buildResult, driftedHost } from '../conformance/sample.js';

const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-nmap-xml-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** An nmap 7.93-style file around one host's <ports>. */
function nmapFile(ports: string, scaninfo = '<scaninfo type="syn" protocol="tcp" numservices="10" services="20-29"/>'): string {
  return `<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sS -p 20-29 198.18.0.2" start="1700000000" version="7.93">${scaninfo}
<host><status state="up" reason="echo-reply"/><address addr="198.18.0.2" addrtype="ipv4"/><hostnames/><ports>${ports}</ports></host>
<runstats><finished time="1700000009" exit="success"/><hosts up="1" down="0" total="1"/></runstats></nmaprun>`;
}

function errorOf(action: () => unknown): PortmatrixError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(PortmatrixError);
    return error as PortmatrixError;
  }
  throw new Error('no error');
}

describe('parseNmapXml', () => {
  it('expands each <extrareasons ports> and keeps listed ports, reasons mapped to ours', () => {
    const scan = parseNmapXml(
      nmapFile(
        '<extraports state="filtered" count="6"><extrareasons reason="no-responses" count="5" proto="tcp" ports="20,24-27"/><extrareasons reason="admin-prohibiteds" count="1" proto="tcp" ports="28"/></extraports>' +
          '<port protocol="tcp" portid="21"><state state="closed" reason="reset"/></port><port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/><service name="ssh" method="table" conf="3"/></port>' +
          '<port protocol="tcp" portid="23"><state state="closed" reason="reset"/></port><port protocol="tcp" portid="29"><state state="closed" reason="reset"/></port>',
      ),
      'x.xml',
    );
    const [host] = scan.hosts;
    expect(scan).toMatchObject({ startedAt: '2023-11-14T22:13:20.000Z', finishedAt: '2023-11-14T22:13:29.000Z', complete: true, scanTypes: { tcp: 'syn' } });
    expect(host!.plan).toEqual({ tcp: '20-29', udp: '' });
    // 6 filtered (folded), 3 closed and 1 open listed.
    expect(host!.folded).toEqual([
      { transport: 'tcp', state: 'filtered', reason: 'no-response', count: 5 },
      { transport: 'tcp', state: 'filtered', reason: 'icmp-admin-prohibited', count: 1 },
    ]);
    expect(host!.observations.map((o) => `${o.port} ${o.state} ${o.reason}${o.service ? ` ${o.service}` : ''}`)).toEqual(['21 closed reset', '22 open syn-ack ssh', '23 closed reset', '29 closed reset']);
  });

  it('reads a file without extrareasons ports (nmap < 7.92) when one state is folded, and refuses two', () => {
    const one = parseNmapXml(nmapFile('<extraports state="closed" count="9"><extrareasons reason="resets" count="9"/></extraports><port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/></port>'), 'old.xml');
    expect(one.hosts[0]!.folded).toEqual([{ transport: 'tcp', state: 'closed', reason: 'reset', count: 9 }]);
    const two = errorOf(() =>
      parseNmapXml(nmapFile('<extraports state="closed" count="5"><extrareasons reason="resets" count="5"/></extraports><extraports state="filtered" count="5"><extrareasons reason="no-responses" count="5"/></extraports>'), 'old.xml'),
    );
    expect(two.message).toBe('old.xml: host 198.18.0.2: <extraports> fold several tcp states without naming their ports (nmap before 7.92)');
  });

  it('keeps a down host apart and refuses what is not an nmap scan, with file:line', () => {
    const down = parseNmapXml(nmapFile('').replace('<status state="up" reason="echo-reply"/>', '<status state="down" reason="no-response"/>'), 'd.xml');
    expect(down.hosts).toEqual([]);
    expect(down.down).toEqual([{ address: '198.18.0.2', reason: 'no-response' }]);
    expect(errorOf(() => parseNmapXml('<nmaprun>\n<host>\n</nmaprun>', 'bad.xml')).message).toMatch(/^bad\.xml:3:\d+: not an nmap XML file/);
    expect(errorOf(() => parseNmapXml('{"schema":"portmatrix/result"}', 'r.json')).message).toMatch(/^r\.json:1:1: not an nmap XML file/);
    expect(errorOf(() => parseNmapXml('<scan/>', 's.xml')).message).toBe('s.xml: not an nmap XML file (no <nmaprun>)');
    expect(errorOf(() => parseNmapXml(nmapFile('<port protocol="tcp" portid="22"><state state="unfiltered" reason="reset"/></port>'), 'a.xml')).message).toMatch(
      /^a\.xml: host 198\.18\.0\.2 tcp\/22: port state "unfiltered" is not one portmatrix judges/,
    );
  });

  it('reads back our own nmap XML with the same observations', () => {
    const result = buildResult({ hosts: [driftedHost()] });
    const back = parseNmapXml(renderNmapXml(result), 'ours.xml').hosts[0]!;
    const original = result.hosts[0]!;
    expect(back.plan).toEqual(original.plan);
    // Every port the original lists has the same state in the copy (listed, or its transport's folded state), banners kept.
    for (const observation of original.observations) {
      const copy = back.observations.find((o) => o.transport === observation.transport && o.port === observation.port);
      const state = copy?.state ?? back.folded.find((entry) => entry.transport === observation.transport)?.state;
      expect(state, `${observation.transport}/${observation.port}`).toBe(observation.state);
      // What XML cannot carry (control characters) never reaches the file; the rest comes back.
      const written = (banner: string | undefined) => (banner === undefined ? undefined : escapeXml(banner));
      expect(written(copy?.banner), `${observation.transport}/${observation.port}`).toBe(written(observation.banner));
    }
    const total = (host: typeof original) => host.observations.length + host.folded.reduce((sum, entry) => sum + entry.count, 0);
    expect(total(back)).toBe(total(original));
  });
});

describe('our nmap XML and Debian ndiff', () => {
  itNeeding('ndiff (without -v) reads two runs whose only change is a banner on a UDP port, and TCP ports carry service names', { tools: ['ndiff'] }, () => {
    const host = driftedHost();
    const withBanner = (banner: string) => ({ ...host, observations: host.observations.map((o) => (o.transport === 'udp' && o.state === 'open' ? { ...o, banner } : o)) });
    const before = renderNmapXml(buildResult({ hosts: [withBanner('Avaya IP Office 9.1')] }));
    const after = renderNmapXml(buildResult({ hosts: [withBanner('Avaya IP Office 11.0')] }));
    expect(after).toMatch(/<port protocol="tcp" portid="23">.*<service name="telnet"/);
    expect(after).toMatch(/<port protocol="tcp" portid="80">.*<service name="http" method="table" conf="3"\/>/);
    writeFileSync(path.join(work, 'a.xml'), before);
    writeFileSync(path.join(work, 'b.xml'), after);
    const diff = spawnSync('ndiff', [path.join(work, 'a.xml'), path.join(work, 'b.xml')], { encoding: 'utf8' });
    expect(diff.stderr).not.toMatch(/Traceback|TypeError/);
    expect(diff.status).toBe(1);
    expect(diff.stdout).toMatch(/^-69\/udp .*\(Avaya IP Office 9\.1\)$/m);
    expect(diff.stdout).toMatch(/^\+69\/udp .*\(Avaya IP Office 11\.0\)$/m);
  });
});
