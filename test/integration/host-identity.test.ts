/**
 * Host identity: a CIDR block, a host name with several addresses and a list are each several
 * hosts, and every report format keys findings and sections by the host's own address.
 * Real listeners on two loopback addresses of one /30 (127.42.11.4/30: .5 and .6), each with
 * different ports; the built CLI writes every format; the name resolver is injected.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffResults } from '../../src/conformance/drift.js';
import { PROFILES } from '../../src/defaults.js';
import { parseResultText } from '../../src/report/parse-result.js';
import type { ScanResult } from '../../src/result/model.js';
import { scanHosts } from '../../src/scan/engine.js';
import { resolveTargets } from '../../src/scan/targets.js';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'bin', 'portmatrix.js');
const BLOCK = '127.42.11.4/30';
const FIRST = '127.42.11.5';
const SECOND = '127.42.11.6';
/** Documented optional listeners of IP Office 9.1 (443, 8443) and one port outside the matrix. */
const PORTS = '443,8443,31337';
const LISTENERS: Record<string, number[]> = { [FIRST]: [8443, 31337], [SECOND]: [443] };

const servers: Server[] = [];
const dir = mkdtempSync(join(tmpdir(), 'portmatrix-hosts-'));

function listen(address: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen({ host: address, port }, () => resolve(server));
  });
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO, timeout: 120_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

function scanArgs(target: string, output: string): string[] {
  return [
    'scan', target, '--matrix', 'ip-office-9.1', '--ports', PORTS, '--udp', 'none', '--checks', 'none', '--profile', 'fast', '--no-progress',
    '--format', 'json,markdown,html,junit,nmap-xml,table', '--output', join(dir, output),
  ];
}

/** The text between one heading that names a host and the next heading. */
function section(text: string, heading: RegExp): string {
  const start = text.search(heading);
  expect(start, `no section ${heading}`).toBeGreaterThanOrEqual(0);
  const rest = text.slice(start + 1);
  const end = rest.search(/\n#{2,3} |<h[23]>/);
  return end < 0 ? rest : rest.slice(0, end);
}

let block: ScanResult;

beforeAll(async () => {
  for (const [address, ports] of Object.entries(LISTENERS)) for (const port of ports) servers.push(await listen(address, port));
  const run = await runCli(scanArgs(BLOCK, 'block'));
  expect(run.stderr).not.toMatch(/error|Error/);
  expect([0, 1]).toContain(run.code);
  block = parseResultText(readFileSync(join(dir, 'block.json'), 'utf8'), 'block.json');
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

describe('a CIDR block is one host per address', () => {
  it('json: each host keeps its block as target and its findings cite its address', () => {
    expect(block.hosts.map((host) => [host.address, host.target])).toEqual([
      [FIRST, BLOCK],
      [SECOND, BLOCK],
    ]);
    const open = (address: string) =>
      block.hosts.find((host) => host.address === address)!.observations.filter((o) => o.state === 'open').map((o) => o.port);
    expect(open(FIRST)).toEqual([8443, 31337]);
    expect(open(SECOND)).toEqual([443]);
    const findings = block.conformance!.findings;
    expect(new Set(findings.map((finding) => finding.host))).toEqual(new Set([FIRST, SECOND]));
    const seen = (address: string, port: number) => findings.find((f) => f.host === address && f.port === port && f.kind !== 'conformant');
    expect(seen(FIRST, 31337)?.kind).toBe('extra-listener');
    expect(seen(FIRST, 443)?.kind).toBe('optional-listener-disabled');
    expect(seen(FIRST, 8443)).toBeUndefined();
    expect(seen(SECOND, 8443)?.kind).toBe('optional-listener-disabled');
    expect(seen(SECOND, 443)).toBeUndefined();
    expect(seen(SECOND, 31337)).toBeUndefined();
  });

  it('markdown and html: a port map section per host, with that host own observations', () => {
    for (const [file, heading] of [
      ['block.md', (address: string) => new RegExp(`### ${address.replaceAll('.', '\\.')}: ip-office`)],
      ['block.html', (address: string) => new RegExp(`<h3>${address.replaceAll('.', '\\.')} · ip-office</h3>`)],
    ] as const) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text).not.toContain(`${BLOCK} ·`);
      const first = section(text, heading(FIRST));
      const second = section(text, heading(SECOND));
      expect(first).not.toBe(second);
      // tcp/8443 is open on .5 only, tcp/443 on .6 only.
      expect(first).toMatch(/tcp\/8443[^\n]*open/);
      expect(first).toMatch(/tcp\/443[^\n]*closed/);
      expect(second).toMatch(/tcp\/443[^\n]*open/);
      expect(second).toMatch(/tcp\/8443[^\n]*closed/);
    }
    expect(section(readFileSync(join(dir, 'block.md'), 'utf8'), /### 127\.42\.11\.5: listeners outside the matrix/)).toContain('tcp/31337');
    expect(readFileSync(join(dir, 'block.md'), 'utf8')).not.toMatch(/### 127\.42\.11\.6: listeners outside the matrix/);
  });

  it('junit: one suite per host, the host in every classname', () => {
    const xml = readFileSync(join(dir, 'block.junit.xml'), 'utf8');
    const suites = [...xml.matchAll(/<testsuite [^>]*name="([^"]+)"[^>]*hostname="([^"]+)"/g)].map((match) => [match[1], match[2]]);
    expect(suites).toEqual([
      ['portmatrix.ip-office-9.1.127_42_11_5', FIRST],
      ['portmatrix.ip-office-9.1.127_42_11_6', SECOND],
    ]);
    const classnames = [...xml.matchAll(/<testcase classname="([^"]+)"/g)].map((match) => match[1]!);
    expect(classnames.every((name) => /^portmatrix\.ip-office-9\.1\.127_42_11_[56]\./.test(name))).toBe(true);
    const failure = /<testcase classname="portmatrix\.ip-office-9\.1\.127_42_11_5\.not-in-matrix" name="tcp\/31337[^"]*"[^>]*>\s*<failure type="extra-listener"/;
    expect(xml).toMatch(failure);
    expect(xml).not.toMatch(/127_42_11_6\.not-in-matrix/);
  });

  it('nmap-xml: one <host> per address, no block as a host name', () => {
    const xml = readFileSync(join(dir, 'block.nmap.xml'), 'utf8');
    const hosts = xml.split('<host ').slice(1);
    expect(hosts.map((host) => /<address addr="([^"]+)"/.exec(host)?.[1])).toEqual([FIRST, SECOND]);
    expect(xml).not.toContain(`name="${BLOCK}"`);
    expect(hosts[0]).toMatch(/portid="8443"><state state="open"/);
    expect(hosts[1]).toMatch(/portid="443"><state state="open"/);
    expect(hosts[1]).not.toMatch(/portid="8443"><state state="open"/);
  });

  it('table: a summary line per address', () => {
    const table = readFileSync(join(dir, 'block.txt'), 'utf8');
    expect(table).toMatch(/^Host 127\.42\.11\.5: 2 open/m);
    expect(table).toMatch(/^Host 127\.42\.11\.6: 1 open/m);
  });

  it('a list of the same addresses gives the same hosts and findings', async () => {
    const run = await runCli(scanArgs(`${FIRST},${SECOND}`, 'list'));
    expect([0, 1]).toContain(run.code);
    const list = parseResultText(readFileSync(join(dir, 'list.json'), 'utf8'), 'list.json');
    expect(list.hosts.map((host) => host.address)).toEqual([FIRST, SECOND]);
    const key = (result: ScanResult) => result.conformance!.findings.map((f) => `${f.host} ${f.kind} ${f.transport}/${f.port}`).sort();
    expect(key(list)).toEqual(key(block));
    // Drift of the two runs is per host and empty: nothing was merged.
    const drift = diffResults(block, list);
    expect(drift.hosts.map((host) => `${host.address} ${host.status}`)).toEqual([`${FIRST} unchanged`, `${SECOND} unchanged`]);
  }, 120_000);

  it('drift is per address: a listener that closes on one host changes only that host', async () => {
    const server = servers.find((candidate) => (candidate.address() as { address: string }).address === SECOND)!;
    await new Promise((resolve) => server.close(resolve));
    servers.splice(servers.indexOf(server), 1);
    const run = await runCli(scanArgs(BLOCK, 'after'));
    expect([0, 1]).toContain(run.code);
    const after = parseResultText(readFileSync(join(dir, 'after.json'), 'utf8'), 'after.json');
    const drift = diffResults(block, after);
    expect(drift.hosts.map((host) => `${host.address} ${host.status}`)).toEqual([`${FIRST} unchanged`, `${SECOND} changed`]);
    expect(drift.hosts[1]!.ports).toEqual([{ transport: 'tcp', port: 443, before: 'open', after: 'closed' }]);
    servers.push(await listen(SECOND, 443));
  }, 120_000);
});

describe('a host name with several addresses is several hosts', () => {
  it('each resolved address is scanned and reported with the name beside it', async () => {
    const resolve = async (name: string) => {
      expect(name).toBe('pbx-pair.test');
      return [
        { address: FIRST, family: 4 },
        { address: SECOND, family: 4 },
      ];
    };
    const targets = await resolveTargets(['pbx-pair.test'], { maxHosts: 8, resolve });
    expect(targets).toEqual([
      { target: 'pbx-pair.test', address: FIRST, family: 4, name: 'pbx-pair.test' },
      { target: 'pbx-pair.test', address: SECOND, family: 4, name: 'pbx-pair.test' },
    ]);
    const scan = await scanHosts({ targets, plan: { tcp: [{ start: 443, end: 443 }, { start: 8443, end: 8443 }], udp: [] }, caps: PROFILES.fast, seed: 1 });
    expect(scan.hosts.map((host) => [host.address, host.name, host.observations.filter((o) => o.state === 'open').map((o) => o.port)])).toEqual([
      [FIRST, 'pbx-pair.test', [8443]],
      [SECOND, 'pbx-pair.test', [443]],
    ]);
  });
});
