/**
 * Host identity: a CIDR block, a host name with several addresses and a list are each several
 * hosts, and every report format keys findings and sections by the host's own address. One
 * namespace per family holds a block of addresses with different listeners on the first three
 * (IPv4: a routed /29, six hosts; IPv6: ::10-::13 of its /64, a /126); the built CLI scans the
 * block and writes every format, the library scans the name (resolver injected: no /etc/hosts)
 * and the list; the same per-host checks run on each, and drift is per address.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { diffResults } from '../../src/conformance/drift.js';
import { createTestHost, type TestHost } from '../../src/emulator/netns.js';
import { parseResultText, RENDERERS, type ReportFormat } from '../../src/report/index.js';
import { describeHost } from '../../src/report/view.js';
import type { ScanResult } from '../../src/result/model.js';
import { executeRun, prepareRun } from '../../src/run.js';
import { escapeMarkdown } from '../../src/util/untrusted-text.js';
import { describeNetns } from '../helpers/netns.js';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'bin', 'portmatrix.js');
/** Documented optional listeners of IP Office 9.1 (443, 8443) and one port outside the matrix. */
const PORTS = [443, 8443, 31337];
/** The listeners of the block's first three hosts; the others have none (up: every port closed). */
const LISTENER_SETS = [[8443, 31337], [443], [443, 8443]];
const NAME = 'pbx-trio.test';
const FILES: Record<ReportFormat, string> = { json: 'json', markdown: 'md', html: 'html', junit: 'junit.xml', 'nmap-xml': 'nmap.xml', table: 'txt' };
const dir = mkdtempSync(join(tmpdir(), 'portmatrix-hosts-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO, timeout: 120_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** A scan's reports, one text per format. */
type Reports = { result: ScanResult } & Record<ReportFormat, string>;

/** The CLI's scan of `target`: every format written to files, read back. */
async function scanWithCli(target: string, name: string): Promise<Reports> {
  const formats = Object.keys(FILES) as ReportFormat[];
  const args = ['scan', target, '--matrix', 'ip-office-9.1', '--ports', PORTS.join(','), '--udp', 'none', '--checks', 'none', '--profile', 'fast', '--no-progress'];
  const run = await runCli([...args, '--format', formats.join(','), '--output', join(dir, name)]);
  expect(run.stderr).not.toMatch(/error/i);
  expect(run.code).toBe(1); // 31337 is an extra listener: an error finding
  const texts = Object.fromEntries(formats.map((format) => [format, readFileSync(join(dir, `${name}.${FILES[format]}`), 'utf8')])) as Record<ReportFormat, string>;
  return { ...texts, result: parseResultText(texts.json, `${name}.json`) };
}

/** The library's run of `targets` with an injected resolver, every format rendered from the result. */
async function scanWithLibrary(targets: string[], resolve?: (name: string) => Promise<{ address: string; family: number }[]>): Promise<Reports> {
  const prepared = await prepareRun({
    targets,
    ports: PORTS.map((port) => ({ start: port, end: port })),
    udp: 'none',
    checks: 'none',
    profile: 'fast',
    conformance: { matrix: 'ip-office-9.1' },
    ...(resolve ? { resolve } : {}),
  });
  const { result, exitCode } = await executeRun(prepared);
  expect(exitCode).toBe(1);
  const texts = Object.fromEntries(Object.entries(RENDERERS).map(([format, render]) => [format, render(result)])) as Record<ReportFormat, string>;
  return { ...texts, result };
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The text between one heading and the next heading. */
function section(text: string, heading: string): string {
  const start = text.indexOf(heading);
  expect(start, `no section ${heading}`).toBeGreaterThanOrEqual(0);
  const rest = text.slice(start + heading.length);
  const end = rest.search(/\n#{2,3} |<h[23]>/);
  return end < 0 ? rest : rest.slice(0, end);
}

interface ExpectedHost {
  address: string;
  target: string;
  name?: string;
  listeners: number[];
}

/** Every format, host by host: that host's own listeners, findings and sections, and nothing of the others'. */
function checkReports(reports: Reports, hosts: ExpectedHost[]): void {
  const { result } = reports;
  expect(result.hosts.map((host) => [host.address, host.target, host.name])).toEqual(hosts.map((host) => [host.address, host.target, host.name]));
  const findings = result.conformance!.findings;
  expect(new Set(findings.map((finding) => finding.host))).toEqual(new Set(hosts.map((host) => host.address)));
  const junitSuites = [...reports.junit.matchAll(/<testsuite [^>]*name="([^"]+)"[^>]*hostname="([^"]+)"/g)].map((match) => [match[1], match[2]]);
  const nmapHosts = reports['nmap-xml'].split('<host ').slice(1);
  expect(nmapHosts.map((host) => /<address addr="([^"]+)"/.exec(host)?.[1])).toEqual(hosts.map((host) => host.address));
  hosts.forEach((expected, index) => {
    const { address, listeners } = expected;
    const label = describeHost(expected);
    // json: observations and findings of this host only.
    const host = result.hosts[index]!;
    expect(host.observations.filter((o) => o.state === 'open').map((o) => o.port), address).toEqual(listeners);
    const deviation = (port: number) => findings.find((f) => f.host === address && f.port === port && f.kind !== 'conformant')?.kind;
    expect(deviation(31337), address).toBe(listeners.includes(31337) ? 'extra-listener' : undefined);
    for (const port of [443, 8443]) expect(deviation(port), `${address} ${port}`).toBe(listeners.includes(port) ? undefined : 'optional-listener-disabled');
    // markdown and html: the host's own port map section.
    for (const [text, heading] of [
      [reports.markdown, `### ${escapeMarkdown(label)}: ip-office`],
      [reports.html, `<h3>${label} · ip-office</h3>`],
    ] as const) {
      const own = section(text, heading);
      for (const port of [443, 8443]) expect(own, `${heading} tcp/${port}`).toMatch(new RegExp(`tcp/${port}\\b[^\\n]*${listeners.includes(port) ? 'open' : 'closed'}`));
    }
    expect(reports.markdown.includes(`### ${escapeMarkdown(label)}: listeners outside the matrix`), address).toBe(listeners.includes(31337));
    // junit: a suite per host, its classnames carry the host.
    const suite = `portmatrix.ip-office-9.1.${address.replace(/[.:]/g, '_')}`;
    expect(junitSuites[index]).toEqual([suite, address]);
    expect(reports.junit.includes(`classname="${suite}.not-in-matrix" name="tcp/31337`), address).toBe(listeners.includes(31337));
    // nmap-xml: a <host> per address with its own open ports and the name it was resolved from.
    const xmlHost = nmapHosts[index]!;
    for (const port of PORTS) expect(xmlHost.includes(`portid="${port}"><state state="open"`), `${address} ${port}`).toBe(listeners.includes(port));
    expect(xmlHost.includes(`<hostname name="${expected.name}"`)).toBe(expected.name !== undefined);
    // table: a summary line per host.
    expect(reports.table).toMatch(new RegExp(`^Host ${escape(label)}: ${listeners.length} open`, 'm'));
  });
  // Nothing carries the block or the name as a host.
  for (const host of hosts) {
    if (host.target !== host.address) expect(reports['nmap-xml']).not.toContain(`addr="${host.target}"`);
  }
}

for (const family of [4, 6] as const) describeNetns(`host identity over IPv${family}: a block, a name and a list are one host per address`, () => {
  let host: TestHost;
  let block: string;
  let addresses: string[];
  let cidr: Reports;
  const expected = (target: (address: string) => string, name?: string, count = addresses.length): ExpectedHost[] =>
    addresses.slice(0, count).map((address, index) => ({ address, target: target(address), ...(name ? { name } : {}), listeners: LISTENER_SETS[index] ?? [] }));

  beforeAll(async () => {
    if (family === 4) {
      host = await createTestHost({ label: 'host-identity-v4', routedBlockPrefix: 29 });
      block = host.routedBlock!;
      const [network = ''] = block.split('/');
      const base = network.split('.').map(Number);
      addresses = [1, 2, 3, 4, 5, 6].map((offset) => [...base.slice(0, 3), base[3]! + offset].join('.'));
    } else {
      host = await createTestHost({ label: 'host-identity-v6' });
      const prefix = host.address6.replace(/::2$/, '::');
      addresses = ['10', '11', '12', '13'].map((suffix) => `${prefix}${suffix}`);
      block = `${addresses[0]}/126`;
      for (const address of addresses) await host.exec(['ip', '-6', 'addr', 'add', `${address}/64`, 'dev', host.targetLink, 'nodad']);
    }
    const listeners = addresses.slice(0, 3).flatMap((address, index) => LISTENER_SETS[index]!.map((port) => [address, port]));
    const program = `const net=require('net');for(const [a,p] of ${JSON.stringify(listeners)})net.createServer(s=>s.destroy()).listen({host:a,port:p});setInterval(()=>{},1e6)`;
    host.spawn([process.execPath, '-e', program]);
    for (let attempt = 0; attempt < 50; attempt++) {
      const { stdout } = await host.exec(['ss', '-Hltn']);
      if (listeners.every(([address, port]) => stdout.includes(family === 6 ? `[${address}]:${port} ` : `${address}:${port} `))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    cidr = await scanWithCli(block, `block-v${family}`);
  }, 120_000);

  afterAll(async () => {
    await host?.destroy();
  });

  it('a CIDR block (the CLI): each address its own host, the block as its target, in every format', () => {
    checkReports(cidr, expected(() => block));
  });

  it('a host name resolving to three of the addresses: three hosts, the name beside each address', async () => {
    const resolve = async (name: string) => {
      expect(name).toBe(NAME);
      return addresses.slice(0, 3).map((address) => ({ address, family }));
    };
    checkReports(await scanWithLibrary([NAME], resolve), expected(() => NAME, NAME, 3));
  });

  it('a list of the addresses: the same hosts and findings as the block; drift of the two is empty, per host', async () => {
    const list = await scanWithLibrary([addresses.join(',')]);
    checkReports(list, expected((address) => address));
    const key = (result: ScanResult) => result.conformance!.findings.map((f) => `${f.host} ${f.kind} ${f.transport}/${f.port}`).sort();
    expect(key(list.result)).toEqual(key(cidr.result));
    expect(diffResults(cidr.result, list.result).hosts.map((entry) => `${entry.address} ${entry.status}`)).toEqual(addresses.map((address) => `${address} unchanged`));
  }, 120_000);

  it('drift is per address: a listener that closes on one host changes only that host (diffResults and portmatrix diff)', async () => {
    const second = addresses[1]!;
    await host.nft(`table inet pm_identity {
  chain input { type filter hook input priority 0; policy accept; ip${family === 6 ? '6' : ''} daddr ${second} tcp dport 443 reject with tcp reset; }
}`);
    const after = await scanWithCli(block, `after-v${family}`);
    const drift = diffResults(cidr.result, after.result);
    expect(drift.hosts.map((entry) => `${entry.address} ${entry.status}`)).toEqual(addresses.map((address) => `${address} ${address === second ? 'changed' : 'unchanged'}`));
    expect(drift.hosts[1]!.ports).toEqual([{ transport: 'tcp', port: 443, before: 'open', after: 'closed' }]);
    const diff = await runCli(['diff', join(dir, `block-v${family}.json`), join(dir, `after-v${family}.json`), '--format', 'json']);
    expect(diff.code).toBe(1);
    const report = JSON.parse(diff.stdout) as { hosts: { address: string; status: string }[] };
    expect(report.hosts.filter((entry) => entry.status !== 'unchanged').map((entry) => entry.address)).toEqual([second]);
    await host.nft('delete table inet pm_identity');
  }, 120_000);
});
