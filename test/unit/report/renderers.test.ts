import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RENDERERS, REPORT_FORMATS } from '../../../src/report/index.js';
import { parseResultText } from '../../../src/report/parse-result.js';
import { renderHtml } from '../../../src/report/html.js';
import { renderMarkdown } from '../../../src/report/markdown.js';
import { renderTable } from '../../../src/report/table.js';
import type { ScanResult } from '../../../src/result/model.js';
import { foldObservations } from '../../../src/scan/fold.js';
import type { Observation } from '../../../src/model/port-state.js';
import { buildResult, driftedHost, hardenedHost } from '../conformance/sample.js';

const RESULTS_DIR = new URL('../../../fixtures/results/', import.meta.url);
function load(name: string): { text: string; result: ScanResult } {
  const text = readFileSync(new URL(name, RESULTS_DIR), 'utf8');
  return { text, result: parseResultText(text, name) };
}
const ESC = '\u001b';

describe('renderers', () => {
  const drift = load('ip-office-drift.json').result;
  const waived = load('ip-office-drift-waived.json').result;
  const conformant = load('ip-office-conformant.json').result;

  it('re-render a saved result byte-identically (json) and deterministically (all)', () => {
    for (const name of ['ip-office-drift.json', 'ip-office-conformant.json', 'ip-office-drift-waived.json']) {
      const { text, result } = load(name);
      expect(RENDERERS.json(result)).toBe(text);
      for (const format of REPORT_FORMATS) {
        expect(RENDERERS[format](parseResultText(text, name))).toBe(RENDERERS[format](result));
      }
    }
  });

  it('table: summary, one table per finding kind, no colour unless asked, no escape sequences from banners', () => {
    const plain = renderTable(drift);
    expect(plain).not.toContain(ESC);
    expect(plain).toContain('Result: NOT conformant at --fail-on error · 2 error, 4 warning, 3 notice, 0 accepted');
    for (const title of ['Missing listener (1)', 'Extra listener (1)', 'Listener moved? (1)', 'Internal port exposed (1)', 'Dynamic-range port open (1)', 'UDP unconfirmed (no reply) (1)']) {
      expect(plain).toContain(title);
    }
    expect(plain).not.toMatch(/^Conformant \(/m);
    const coloured = renderTable(drift, { color: true });
    expect(coloured).toContain(`${ESC}[31m`);
    // A banner's own escape sequence becomes U+FFFD[...: it cannot clear or recolour the terminal.
    const hostile = structuredClone(drift);
    const telnet = hostile.conformance!.findings.find((finding) => finding.port === 23)!;
    telnet.banner = `${ESC}[2J${ESC}]0;owned\u0007 login:`;
    const shown = renderTable(hostile, { color: true });
    expect(shown).toContain('\ufffd[2J\ufffd]0;owned\ufffd login:');
    expect(shown).not.toContain(`${ESC}[2J`);
    expect(renderTable(conformant)).toContain('Result: conformant at --fail-on error');
  });

  it('markdown: findings by severity with row references, escaped untrusted text, how it was scanned', () => {
    const markdown = renderMarkdown(drift);
    expect(markdown).toMatch(/### Errors \(2\)[\s\S]*### Warnings \(4\)[\s\S]*### Notices \(3\)/);
    expect(markdown).toContain('IP Office Platform 9.1 Port Matrix / IP Office ports row 2 \\(ipo-https\\)');
    expect(markdown).not.toContain('<script>');
    expect(markdown).not.toContain('<img');
    expect(markdown).toContain('&lt;script&gt;');
    expect(markdown).toContain('## What was scanned and how');
    expect(markdown).toContain('- Vantage point: audit-box (198.18.0.1)');
    expect(markdown).toContain('tcp 1-65535, udp 69,161,5060,40750-50750');
    const waivedMarkdown = renderMarkdown(waived);
    expect(waivedMarkdown).toContain('### Accepted (waived, or off in the policy) (1)');
    expect(waivedMarkdown).toContain('waiver CHG-0977: expired 2025-01-31');
  });

  it('html: self-contained, script-free, every expected port on the map', () => {
    const html = renderHtml(drift);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<[^>]*\s(src|href)=/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain("default-src 'none'");
    const tiles = html.match(/class="tile /g) ?? [];
    // 12 expected ports + 1 dynamic range, plus 2 listeners outside the matrix (8080, udp/45000).
    expect(tiles).toHaveLength(15);
    expect(html).toContain('data-port="tcp/8080"');
  });

  it('counts findings the policy turns off as accepted, and says why', () => {
    const result = buildResult({ hosts: [driftedHost()], policy: { severities: { 'dynamic-port-open': 'off' }, waivers: [], conditions: [] } });
    expect(renderTable(result)).toContain('4 warning, 2 notice, 1 accepted, ');
    expect(renderTable(result)).toContain('accepted: severity off in the policy');
    expect(renderMarkdown(result)).toMatch(/### Accepted \(waived, or off in the policy\) \(1\)\n\n.*\n.*\n\| Dynamic-range port open /);
    expect(RENDERERS.junit(result)).toContain('<system-out>udp/45000 Dynamic-range port open: accepted: severity off in the policy</system-out>');
  });

  it('renders a scan without a matrix', () => {
    const bare: ScanResult = { ...drift };
    delete bare.conformance;
    expect(renderTable(bare)).toContain('port scan (no matrix)');
    expect(renderMarkdown(bare)).toContain('## Ports');
    expect(renderMarkdown(bare)).toContain('Not shown: 65526 closed tcp ports \\(conn-refused\\), 10000 closed udp ports \\(icmp-port-unreach\\)');
    expect(renderHtml(bare)).toContain('<h2>Ports</h2>');
    expect(RENDERERS.junit(bare)).toContain('name="tcp/8080 open"');
  });
  it('renders a hardened host (65,532 filtered tcp ports folded) in every format, listing only what is not folded', () => {
    const result = buildResult({ hosts: [hardenedHost()] });
    const host = result.hosts[0]!;
    expect(host.observations).toHaveLength(9); // 5 open + 1 closed tcp, 3 open udp
    const bare: ScanResult = { ...result };
    delete bare.conformance;
    const notShown = 'Not shown: 65529 filtered tcp ports (no-response), 10001 filtered udp ports (icmp-admin-prohibited)';

    const table = renderTable(bare);
    expect(table).toContain('198.18.0.10 (pbx-hardened.example.test): 9 ports listed');
    expect(table).toContain(notShown);
    expect(table).toContain('Host 198.18.0.10 (pbx-hardened.example.test): 8 open, 1 closed, 75530 filtered, 0 open|filtered');
    expect(table).toMatch(/^tcp\/23 +closed +conn-refused +0.2$/m);
    expect(table.split('\n').length).toBeLessThan(60);
    const conformanceTable = renderTable(result);
    expect(conformanceTable).toContain('Result: conformant at --fail-on error');

    const markdown = renderMarkdown(bare);
    expect(markdown).toContain(notShown.replace(/[()]/g, (paren) => `\\${paren}`));
    expect(markdown.split('\n').filter((line) => line.startsWith('| tcp/') || line.startsWith('| udp/'))).toHaveLength(9);

    const html = renderHtml(bare);
    expect(html).toContain(`<p class="meta">${notShown}</p>`);
    expect(html.match(/<tr><td class="mono">/g)).toHaveLength(9);
    // With the matrix: documented-filtered tcp/21 is on the map as filtered and conformant.
    expect(renderHtml(result)).toMatch(/data-port="tcp\/21">[^]*?seen: filtered \(no-response\)/);

    const json = RENDERERS.json(result);
    expect(parseResultText(json, 'hardened.json')).toEqual(result);
    expect(json.length).toBeLessThan(200_000);

    const junit = RENDERERS.junit(result);
    expect(junit).toContain('name="tcp/21 FTP (IP Office ports row 3)"');
    expect(junit).not.toContain('<failure');

    const nmap = RENDERERS['nmap-xml'](bare);
    expect(nmap).toContain('<extraports state="filtered" count="75530">\n<extrareasons reason="no-response" count="65529" proto="tcp"/>\n<extrareasons reason="admin-prohibited" count="10001" proto="udp"/>\n</extraports>');
    expect(nmap.match(/<port protocol=/g)).toHaveLength(9);
  });
  it('lists every unfolded port of a host that is half closed, half filtered (32k rows) in the terminal report', () => {
    const observations: Observation[] = [];
    for (let port = 1; port <= 65535; port++) {
      observations.push(port % 2 === 1 ? { transport: 'tcp', port, state: 'filtered', reason: 'no-response', rttMs: null, attempts: 2 } : { transport: 'tcp', port, state: 'closed', reason: 'conn-refused', rttMs: 0.1, attempts: 1 });
    }
    const host = { ...hardenedHost(), plan: { tcp: '1-65535', udp: '' }, ...foldObservations(observations) };
    const bare: ScanResult = { ...buildResult({ hosts: [host] }) };
    delete bare.conformance;
    const lines = renderTable(bare).split('\n');
    expect(lines).toContain('Not shown: 32768 filtered tcp ports (no-response)');
    const rows = lines.filter((line) => line.startsWith('tcp/'));
    expect(rows).toHaveLength(32767);
    expect(rows[0]).toBe('tcp/2      closed  conn-refused  0.1');
    expect(rows.at(-1)).toBe('tcp/65534  closed  conn-refused  0.1');
  });
  it("shows an observation's detail (why a UDP port stayed open|filtered) in the detail columns", () => {
    const detail = "no reply to SNMP v1/v2c GetRequest after 4 probes spaced for the target's ICMP rate limit";
    const result = structuredClone(drift);
    result.hosts[0]!.observations.find((observation) => observation.transport === 'udp' && observation.port === 161)!.detail = detail;
    result.conformance!.findings.find((finding) => finding.kind === 'udp-unconfirmed')!.detail = detail;
    expect(parseResultText(RENDERERS.json(result), 'detail.json')).toEqual(result);
    expect(renderTable(result).replace(/[│\s]+/g, ' ')).toContain("no reply to SNMP v1/v2c GetRequest after 4 probes spaced for the target's ICMP");
    expect(renderMarkdown(result)).toContain("udp/161 \\(SNMP\\) is documented open but sent no reply: open or filtered, cannot tell<br>no reply to SNMP v1/v2c GetRequest after 4 probes spaced for the target's ICMP rate limit |");
    expect(renderHtml(result)).toContain(`<br>no reply to SNMP v1/v2c GetRequest after 4 probes spaced for the target&#39;s ICMP rate limit</td></tr>`);
    const bare: ScanResult = { ...result };
    delete bare.conformance;
    expect(renderTable(bare)).toMatch(/^udp\/161 +open\|filtered +no-response +- +no reply to SNMP/m);
    expect(renderMarkdown(bare)).toContain("| udp/161 | open\\|filtered | no-response |  |  | no reply to SNMP v1/v2c GetRequest after 4 probes spaced for the target's ICMP rate limit |");
    expect(renderHtml(bare)).toContain('<td>open|filtered</td><td>no-response</td><td></td><td class="mono banner"></td><td>no reply to SNMP');
  });
});
