/**
 * Open ports that are not listeners, against real kernels in namespaces: an nftables SYN proxy
 * that answers every SYN (a valid SYN-ACK on all 65535 ports) must give one host-level finding,
 * not 65535 extra listeners; a port that answered once and then went dark (a userspace answerer
 * that answers the first SYN to each port only) must be port-flapping after the second look, in
 * both scan types, while a steady undocumented listener stays an extra listener.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { checkConformance } from '../../src/conformance/diff.js';
import { PROFILES } from '../../src/defaults.js';
import { ensureNativeTool } from '../../src/emulator/native-tool.js';
import { createTestHost, type TestHost } from '../../src/emulator/netns.js';
import { loadMatrix } from '../../src/matrix/load.js';
import { selectExpectations } from '../../src/matrix/select.js';
import type { ScanResult } from '../../src/result/model.js';
import { documentedTcpListeners } from '../../src/matrix/documented-ports.js';
import { scanHosts } from '../../src/scan/engine.js';
import { describeNetns } from '../helpers/netns.js';

const REPO = join(import.meta.dirname, '..', '..');
let host: TestHost | undefined;

afterEach(async () => {
  await host?.destroy();
  host = undefined;
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO, 'bin', 'portmatrix.js'), ...args], { cwd: REPO, timeout: 120_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

describeNetns('open ports that are not listeners (namespace)', () => {
  it('a SYN proxy answering every port: one host-level finding, no extra listeners (SYN scan, built CLI)', async () => {
    host = await createTestHost({ label: 'synproxy' });
    // The kernel's own SYN proxy: every SYN, to any port, gets a valid SYN-ACK (a syncookie).
    await host.nft(`table inet pmsynproxy {
  chain prerouting {
    type filter hook prerouting priority raw; policy accept;
    tcp flags syn notrack
  }
  chain input {
    type filter hook input priority 0; policy accept;
    tcp flags syn ct state untracked synproxy mss 1460 wscale 7 timestamp sack-perm
    ct state invalid drop
  }
}
`);
    const { code, stdout } = await runCli(['scan', host.address, '--syn', '--matrix', 'ip-office-9.1', '--udp', 'none', '--checks', 'none', '--profile', 'fast', '--no-progress', '--format', 'json']);
    expect(code).toBe(1);
    const result = JSON.parse(stdout) as ScanResult;
    expect(result.parameters.scanType).toBe('syn');
    const scanned = result.hosts[0]!;
    const why = JSON.stringify({ folded: scanned.folded, listed: scanned.observations.length, complete: scanned.complete, timing: result.parameters.tcpTiming });
    expect(scanned.answersEverything, why).toMatchObject({ transport: 'tcp', openPorts: 65535, scannedPorts: 65535 });
    const deviations = result.conformance!.findings.filter((finding) => finding.kind !== 'conformant');
    expect(deviations.map((finding) => `${finding.kind} ${finding.transport}/${finding.port}`)).toEqual(['answers-everything tcp/0']);
    // No second look on such a host: it would only double the scan.
    expect(result.parameters.secondLook).toEqual({});
  });

  it('a port that answered once is port-flapping after the second look; a steady undocumented listener stays extra (SYN and connect)', async () => {
    const target = await createTestHost({ label: 'flapping' });
    host = target;
    target.spawn([process.execPath, '-e', `require('net').createServer(s=>s.destroy()).listen(31337,'0.0.0.0');setInterval(()=>{},1e6)`]);
    // The kernel stays silent on 40100-40101; the answerer answers the first SYN to each, then nothing.
    await target.nft(`table inet pmtest {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 40100-40101 drop
  }
}
`);
    const binary = await ensureNativeTool('syn-answerer');
    const { matrix } = await loadMatrix('ip-office-9.1');
    const { expectations } = selectExpectations(matrix, { components: ['ip-office'], platform: 'ip500v2' });
    for (const tcpScanType of ['syn', 'connect'] as const) {
      const answerer = target.spawn([binary, '--mode', 'valid-once', '--ports', '40100-40101']);
      const [ready] = (await once(answerer.stdout!, 'data')) as [Buffer];
      expect(ready.toString()).toContain('ready');
      for (let attempt = 0; attempt < 50 && !(await target.exec(['ss', '-Hltn'])).stdout.includes(':31337 '); attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
      const { hosts, details } = await scanHosts({
        targets: [{ target: target.address, address: target.address, family: 4 }],
        plan: { tcp: [{ start: 31337, end: 31337 }, { start: 40100, end: 40101 }], udp: [], documentedTcpListeners: documentedTcpListeners(expectations) },
        caps: PROFILES.fast,
        tcpScanType,
      });
      answerer.kill('SIGTERM');
      await once(answerer, 'exit');
      expect(details.secondLook[target.address]).toMatchObject({ ports: 3, flapping: 2 });
      const observed = hosts[0]!.observations.map((observation) => `${observation.port} ${observation.state}${observation.flapping ? ' flapping' : ''}`);
      expect(observed, tcpScanType).toEqual(['31337 open', '40100 open flapping', '40101 open flapping']);
      const findings = checkConformance({ expectations, hosts })
        .filter((finding) => finding.port === 31337 || finding.port >= 40100)
        .map((finding) => `${finding.kind} ${finding.port} ${finding.severity}`);
      expect(findings, tcpScanType).toEqual(['extra-listener 31337 error', 'port-flapping 40100 notice', 'port-flapping 40101 notice']);
    }
  });
});
