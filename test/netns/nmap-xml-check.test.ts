/**
 * Acceptance: a real nmap scan of an emulated target, judged with `portmatrix check --nmap-xml`,
 * gives the same findings as the live scan of that target (-sT -p- and -sS -p-; -sU on the
 * documented UDP ports, where both read the same states). A host nmap saw down is never judged.
 * nmap folds the closed ports into <extraports> (expanded port by port) and lists the open and
 * filtered ones (the matrix documents filtered rows: the target drops them).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../../src/conformance/model.js';
import { parseDriftSpec } from '../../src/emulator/drift.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/emulator.js';
import { createTestHost } from '../../src/emulator/netns.js';
import { formatPortSpec } from '../../src/model/port-range.js';
import type { ScanResult } from '../../src/result/model.js';
import { describeNetns } from '../helpers/netns.js';
import { runNmapSync } from '../helpers/nmap.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-nmap-check-'));
const MATRIX = ['--matrix', 'ip-office-9.1', '--component', 'ip-office', '--platform', 'ip500v2'];
let target: RunningEmulator | undefined;

afterAll(async () => {
  await target?.stop();
  rmSync(work, { recursive: true, force: true });
});

function run(file: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(file, args, { cwd: work, encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL', env: { ...process.env, NO_COLOR: '1' } });
  if (result.error) throw new Error(`${file} ${args.join(' ')}: ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const portmatrix = (...args: string[]) => run(process.execPath, [path.join(repoRoot, 'bin/portmatrix.js'), ...args]);

/** What a finding says, without the wording: kind, port, severity, row. */
function verdicts(file: string): string[] {
  const result = JSON.parse(readFileSync(path.join(work, file), 'utf8')) as ScanResult;
  return (result.conformance?.findings ?? []).map((f: Finding) => `${f.kind} ${f.transport}/${f.port} ${f.observed} ${f.severity} ${f.ref?.rowId ?? '-'}`).sort();
}

describeNetns('check --nmap-xml: a real nmap scan judged like a live scan', () => {
  beforeAll(async () => {
    target = await startEmulator({
      matrix: 'ip-office-9.1',
      components: ['ip-office'],
      platform: 'ip500v2',
      drift: parseDriftSpec('extra:tcp/31337,missing:tcp/8000,expose:tcp/4444,missing:udp/69'),
      label: 'nmap-xml check',
    });
  }, 60_000);

  it('nmap -sT -p- and -sS -p-: same findings as the live scan (and exit code)', () => {
    const address = target!.address;
    const checked: Record<string, string[]> = {};
    for (const scanType of ['-sT', '-sS']) {
      const xml = `nmap${scanType}.xml`;
      const nmap = runNmapSync([scanType, '-p-', '-n', '-Pn', '-T4', '-oX', xml, address], { cwd: work, timeoutMs: 120_000 });
      expect(nmap.status, nmap.stderr).toBe(0);
      expect(readFileSync(path.join(work, xml), 'utf8')).toMatch(/<extraports state="closed" count="\d+">/);
      const check = portmatrix('check', '--nmap-xml', xml, ...MATRIX, '--format', 'json', '--output', `${xml}.json`);
      expect(check.status, `${scanType}: ${check.stderr}`).toBe(1);
      checked[scanType] = verdicts(`${xml}.json`);
    }
    // --profile normal: on a busy machine the fast profile's timeout shrinks below what answers take (reported as a bug).
    const live = portmatrix('scan', address, ...MATRIX, '--ports', 'all', '--udp', 'none', '--profile', 'normal', '--format', 'json', '--output', 'live.json');
    expect(live.status, live.stderr).toBe(1);
    const liveVerdicts = verdicts('live.json');
    expect(liveVerdicts).toContainEqual(expect.stringMatching(/^extra-listener tcp\/31337 open error/));
    expect(liveVerdicts).toContainEqual(expect.stringMatching(/^missing-listener tcp\/8000 closed error/));
    expect(liveVerdicts).toContainEqual(expect.stringMatching(/^internal-port-exposed tcp\/4444 open warning/));
    expect(checked['-sT']).toEqual(liveVerdicts);
    expect(checked['-sS']).toEqual(liveVerdicts);
  }, 120_000);

  it('nmap -sU on the documented UDP ports: the states nmap decided are kept, the missing TFTP listener is found', () => {
    const address = target!.address;
    const udpPorts = [...new Set(target!.expectations.filter((e) => e.transport === 'udp' && !e.dynamic).map((e) => e.start))].sort((a, b) => a - b);
    const nmap = runNmapSync(['-sU', '-p', udpPorts.join(','), '-n', '-Pn', '-T4', '-oX', 'udp.xml', address], { cwd: work, timeoutMs: 120_000 });
    expect(nmap.status, nmap.stderr).toBe(0);
    const checked = portmatrix('check', '--nmap-xml', 'udp.xml', ...MATRIX, '--fail-on', 'never', '--format', 'json', '--output', 'udp.json');
    expect(checked.status, checked.stderr).toBe(0);
    const result = JSON.parse(readFileSync(path.join(work, 'udp.json'), 'utf8')) as ScanResult;
    expect(result.hosts[0]!.plan).toEqual({ tcp: '', udp: formatPortSpec(udpPorts.map((port) => ({ start: port, end: port }))) });
    const xml = readFileSync(path.join(work, 'udp.xml'), 'utf8');
    for (const match of xml.matchAll(/<port protocol="udp" portid="(\d+)"><state state="([^"]+)"/g)) {
      const observed = result.hosts[0]!.observations.find((o) => o.port === Number(match[1]));
      expect(observed?.state ?? result.hosts[0]!.folded[0]?.state, `udp/${match[1]}`).toBe(match[2]);
    }
    // TFTP (udp/69) was removed from the target: closed if nmap got its ICMP, open|filtered if rate-limited; never open.
    const tftp = result.conformance!.findings.find((f) => f.transport === 'udp' && f.port === 69)!;
    expect(['missing-listener', 'udp-unconfirmed']).toContain(tftp.kind);
  }, 120_000);

  it('a host nmap saw down is listed and never judged: exit 3, no listener findings', async () => {
    // A second test host that drops every packet; --disable-arp-ping so only IP probes decide.
    const dark = await createTestHost({ label: 'nmap down host' });
    try {
      await dark.nft('table inet dark { chain in { type filter hook input priority 0; policy drop; }; }');
      for (const verbose of [true, false]) {
        const xml = `down-${verbose}.xml`;
        const nmap = runNmapSync(['-sT', '-p', '22,80', '-n', '--disable-arp-ping', ...(verbose ? ['-v'] : []), '-oX', xml, target!.address, dark.address], { cwd: work, timeoutMs: 120_000 });
        expect(nmap.status, nmap.stderr).toBe(0);
        const checked = portmatrix('check', '--nmap-xml', xml, ...MATRIX, '--format', 'json', '--output', `${xml}.json`);
        expect(checked.status).toBe(3);
        // nmap names a down host only with -v; without it the run's count says one was down.
        expect(checked.stderr).toContain(verbose ? `${dark.address} was down in the nmap scan` : '1 host was down in the nmap scan');
        const result = JSON.parse(readFileSync(path.join(work, `${xml}.json`), 'utf8')) as ScanResult;
        expect(result.hosts.map((host) => host.address)).toEqual([target!.address]);
        expect(result.conformance!.findings.every((f) => f.host === target!.address)).toBe(true);
      }
    } finally {
      await dark.destroy();
    }
  }, 60_000);
}, ['nmap']);
