/**
 * Service checks against real servers in a test namespace, each finding asserted with its row
 * (fixtures/checks/services.yaml): Node HTTPS servers with an expired certificate and one valid
 * for 10 days (both made by openssl here), plain HTTP on a port documented HTTPS, openssl
 * s_server speaking TLS 1.0 only, OpenSSH's sshd on its own config and host key, kamailio over
 * TCP and TLS, an SSH port whose listener says nothing, and a proprietary port that no check
 * concerns. Per-port nftables counters in the namespace prove that the checks open connections
 * to the checked ports only, as many as they report.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkServices } from '../../src/checks/run.js';
import { CHECK_LIMITS } from '../../src/defaults.js';
import { createTestHost, type TestHost } from '../../src/emulator/netns.js';
import { loadMatrix } from '../../src/matrix/load.js';
import { selectExpectations } from '../../src/matrix/select.js';
import type { ScanResult } from '../../src/result/model.js';
import { describeNetns } from '../helpers/netns.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MATRIX = path.join(repoRoot, 'fixtures/checks/services.yaml');
const KAMAILIO_MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules';
const PORTS = [22, 443, 2222, 5060, 5061, 7000, 8443, 9443, 50805];
const READY_TIMEOUT_MS = 15_000;
const SCAN_TIMEOUT_MS = 60_000;

function run(argv: string[]): void {
  const [command = '', ...args] = argv;
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr}`);
}

/** openssl: a self-signed certificate valid for `days`, or (with `expired`) one that ended in 2024. */
function makeCertificate(dir: string, name: string, options: { days?: number; expired?: boolean }): { cert: string; key: string } {
  const key = path.join(dir, `${name}-key.pem`);
  const cert = path.join(dir, `${name}-cert.pem`);
  if (!options.expired) {
    run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', String(options.days ?? 365), '-subj', `/CN=${name}.test`]);
    return { cert, key };
  }
  // openssl 3.0's req cannot date a certificate in the past; `ca -selfsign` can.
  const config = path.join(dir, `${name}-ca.cnf`);
  writeFileSync(path.join(dir, `${name}-index.txt`), '');
  writeFileSync(path.join(dir, `${name}-serial`), '01\n');
  writeFileSync(
    config,
    `[ca]\ndefault_ca = test\n[test]\ndatabase = ${dir}/${name}-index.txt\nnew_certs_dir = ${dir}\nserial = ${dir}/${name}-serial\n` +
      'default_md = sha256\npolicy = any\nunique_subject = no\n[any]\ncommonName = supplied\n',
  );
  const request = path.join(dir, `${name}.csr`);
  run(['openssl', 'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', request, '-subj', `/CN=${name}.test`]);
  run(['openssl', 'ca', '-batch', '-config', config, '-selfsign', '-keyfile', key, '-in', request, '-out', cert, '-startdate', '20240101000000Z', '-enddate', '20240201000000Z']);
  return { cert, key };
}

const NODE_SERVERS = `
import https from 'node:https'; import http from 'node:http'; import net from 'node:net'; import fs from 'node:fs';
const [address, expiredCert, expiredKey, expiringCert, expiringKey] = process.argv.slice(2);
const page = (request, response) => { response.setHeader('server', 'fixture-web'); response.end('ok'); };
https.createServer({ cert: fs.readFileSync(expiredCert), key: fs.readFileSync(expiredKey) }, page).listen(443, address);
https.createServer({ cert: fs.readFileSync(expiringCert), key: fs.readFileSync(expiringKey) }, page).listen(8443, address);
// Plain HTTP on the port documented HTTPS, redirecting to HTTPS as such servers often do.
http.createServer((request, response) => { response.writeHead(301, { location: 'https://fixture.test/' }); response.end(); }).listen(9443, address);
// Accepts and says nothing: an SSH port whose service does not answer.
net.createServer((socket) => { socket.on('error', () => {}); setTimeout(() => socket.destroy(), 30000); }).listen(2222, address);
net.createServer((socket) => { socket.on('error', () => {}); socket.end(); }).listen(7000, address);
`;

/** Beyond the namespace tools: the servers, and util-linux's unshare for sshd's private /run. */
const SERVER_TOOLS = ['openssl', 'sshd', 'kamailio', `${KAMAILIO_MODULES}/tls.so`, 'unshare'];

describeNetns('service checks against real servers (namespace)', () => {
  let host: TestHost;
  let work = '';
  let result: ScanResult;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'portmatrix-checks-'));
    host = await createTestHost({ label: 'service checks' });
    const expired = makeCertificate(work, 'expired', { expired: true });
    const expiring = makeCertificate(work, 'expiring', { days: 10 });
    const old = makeCertificate(work, 'old', {});
    const sip = makeCertificate(work, 'sip', {});
    writeFileSync(path.join(work, 'servers.mjs'), NODE_SERVERS);
    host.spawn([process.execPath, path.join(work, 'servers.mjs'), host.address, expired.cert, expired.key, expiring.cert, expiring.key]);
    host.spawn(['openssl', 's_server', '-accept', `${host.address}:50805`, '-cert', old.cert, '-key', old.key, '-tls1', '-cipher', 'DEFAULT@SECLEVEL=0', '-www', '-quiet']);
    // sshd needs its privilege-separation directory: a private /run in its own mount namespace, nothing on the machine's.
    run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', path.join(work, 'ssh_host_key')]);
    writeFileSync(
      path.join(work, 'sshd_config'),
      `Port 22\nListenAddress ${host.address}\nHostKey ${work}/ssh_host_key\nPidFile ${work}/sshd.pid\nUsePAM no\nPasswordAuthentication no\n`,
    );
    host.spawn(['unshare', '-m', 'sh', '-c', `mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd && exec /usr/sbin/sshd -D -e -f ${work}/sshd_config`]);
    writeFileSync(path.join(work, 'tls.cfg'), `[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\nprivate_key = ${sip.key}\ncertificate = ${sip.cert}\n`);
    writeFileSync(
      path.join(work, 'kamailio.cfg'),
      `#!KAMAILIO\ndebug=0\nlog_stderror=yes\nchildren=1\ntcp_children=1\nenable_tls=yes\nlisten=tcp:${host.address}:5060\nlisten=tls:${host.address}:5061\n` +
        `mpath="${KAMAILIO_MODULES}/"\nloadmodule "tls.so"\nloadmodule "sl.so"\nmodparam("tls", "config", "${work}/tls.cfg")\n` +
        'request_route {\n  if (method == "OPTIONS") { sl_send_reply("200", "OK"); }\n  exit;\n}\n',
    );
    host.spawn(['kamailio', '-f', path.join(work, 'kamailio.cfg'), '-DD', '-E', '-m', '32', '-M', '8', '-P', path.join(work, 'kamailio.pid')]);
    // One counter per port for SYNs (new connections), and one for every other TCP port.
    await host.nft(
      `table inet pmcount {\n chain input {\n  type filter hook input priority -10; policy accept;\n` +
        PORTS.map((port) => `  tcp dport ${port} tcp flags & (syn | ack) == syn counter\n`).join('') +
        `  tcp dport != { ${PORTS.join(', ')} } tcp flags & (syn | ack) == syn counter\n }\n}\n`,
    );
    const deadline = performance.now() + READY_TIMEOUT_MS;
    for (;;) {
      const listening = (await host.exec(['ss', '-ltnH'])).stdout;
      const missing = PORTS.filter((port) => !listening.includes(`:${port} `));
      if (missing.length === 0) break;
      if (performance.now() > deadline) throw new Error(`servers did not start: nothing listens on ${missing.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const output = path.join(work, 'result.json');
    const scan = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'bin/portmatrix.js'), 'scan', host.address, '--matrix', MATRIX, '--ports', PORTS.join(','), '--udp', 'none', '--profile', 'fast', '--format', 'json', '--output', output, '--fail-on', 'never'],
      { encoding: 'utf8', timeout: SCAN_TIMEOUT_MS, killSignal: 'SIGKILL', env: { ...process.env, NO_COLOR: '1' } },
    );
    if (scan.status !== 0) throw new Error(`scan exited ${scan.status}: ${scan.stderr}`);
    result = JSON.parse(readFileSync(output, 'utf8')) as ScanResult;
  }, READY_TIMEOUT_MS + SCAN_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await host?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });


  const check = (port: number) => result.checks?.services.find((candidate) => candidate.port === port);
  const kindsAt = (port: number) =>
    (result.conformance?.findings ?? [])
      .filter((finding) => finding.port === port && !['conformant'].includes(finding.kind))
      .map((finding) => `${finding.kind} ${finding.severity} ${finding.ref?.rowId ?? '-'}`)
      .sort();

  it('records the mode and checks exactly the ports whose row names a protocol', () => {
    expect(result.checks?.mode).toBe('documented');
    expect(result.parameters.checks).toBe('documented');
    expect(result.checks?.services.map((service) => `${service.port} ${service.check} ${service.rowIds.join(',')}`).sort()).toEqual([
      '22 ssh ssh',
      '2222 ssh ssh-silent',
      '443 https https-expired',
      '5060 sip sip',
      '5061 sips sip',
      '50805 tls tls-old',
      '8443 https https-expiring',
      '9443 https https-plain',
    ]);
  });

  it('plain HTTP on the port documented HTTPS is a service mismatch on its row, with the redirect seen', () => {
    expect(check(9443)).toMatchObject({ outcome: 'mismatch', protocolSeen: 'http', http: { status: 301, location: 'https://fixture.test/', redirectsToHttps: true } });
    expect(kindsAt(9443)).toEqual(['service-mismatch error https-plain']);
  });

  it('an expired certificate and one valid for 10 days are findings on their rows, with the dates seen', () => {
    expect(check(443)?.tls?.certificate).toMatchObject({ subject: 'CN=expired.test', notAfter: '2024-02-01T00:00:00.000Z', selfSigned: true, matchesHost: false });
    expect(kindsAt(443)).toEqual(['certificate-expired error https-expired', 'certificate-name-mismatch notice https-expired', 'certificate-self-signed notice https-expired']);
    const expiring = check(8443)?.tls?.certificate;
    const daysLeft = (Date.parse(expiring?.notAfter ?? '') - Date.now()) / 86_400_000;
    expect(daysLeft).toBeGreaterThan(9);
    expect(daysLeft).toBeLessThanOrEqual(10);
    expect(check(8443)).toMatchObject({ outcome: 'answered', protocolSeen: 'https', http: { status: 200, server: 'fixture-web' } });
    expect(kindsAt(8443)).toEqual(['certificate-expiring warning https-expiring', 'certificate-name-mismatch notice https-expiring', 'certificate-self-signed notice https-expiring']);
  });

  it('a TLS 1.0-only server is below the floor; modern servers are not', () => {
    expect(check(50805)?.tls).toMatchObject({ version: 'TLSv1', versionsOffered: ['TLSv1'] });
    expect(kindsAt(50805)).toContain('tls-below-floor warning tls-old');
    expect(check(8443)?.tls?.versionsOffered).toEqual(['TLSv1.2', 'TLSv1.3']);
  });

  it('OpenSSH answers with its identification string; a silent SSH port is "did not answer"', () => {
    expect(check(22)).toMatchObject({ outcome: 'answered', protocolSeen: 'ssh', connections: 1 });
    expect(check(22)?.banner).toMatch(/^SSH-2\.0-OpenSSH_/);
    expect(kindsAt(22)).toEqual([]);
    expect(check(2222)).toMatchObject({ outcome: 'no-answer' });
    expect(kindsAt(2222)).toEqual(['service-no-answer notice ssh-silent']);
  });

  it('kamailio answers SIP OPTIONS over TCP on 5060 and over TLS on 5061', () => {
    expect(check(5060)).toMatchObject({ outcome: 'answered', protocolSeen: 'sip' });
    expect(check(5060)?.banner).toMatch(/^SIP\/2\.0 200 OK; kamailio/);
    expect(kindsAt(5060)).toEqual([]);
    expect(check(5061)).toMatchObject({ outcome: 'answered', protocolSeen: 'sips', tls: { version: 'TLSv1.3', versionsOffered: ['TLSv1.2', 'TLSv1.3'] } });
    expect(check(5061)?.banner).toMatch(/^SIP\/2\.0 200 OK; kamailio/);
    expect(kindsAt(5061)).toEqual(['certificate-name-mismatch notice sip', 'certificate-self-signed notice sip']);
  });

  it('connects only to the checked ports, exactly as often as each check reports', async () => {
    const counts = async (): Promise<Map<string, number>> => {
      const listing = (await host.exec(['nft', 'list', 'table', 'inet', 'pmcount'])).stdout;
      const map = new Map<string, number>();
      for (const match of listing.matchAll(/tcp dport (!= \{[^}]*\}|\d+) .*counter packets (\d+)/g)) map.set(match[1]!.startsWith('!=') ? 'other' : match[1]!, Number(match[2]));
      return map;
    };
    const { matrix } = await loadMatrix(MATRIX);
    const { expectations } = selectExpectations(matrix, {});
    const before = await counts();
    const section = await checkServices({ mode: 'documented', hosts: result.hosts, expectations, limits: CHECK_LIMITS.fast });
    const after = await counts();
    const opened = new Map<string, number>();
    for (const [key, value] of after) if (value - (before.get(key) ?? 0) > 0) opened.set(key, value - (before.get(key) ?? 0));
    const reported = new Map<string, number>();
    for (const service of section.services) reported.set(String(service.port), (reported.get(String(service.port)) ?? 0) + service.connections);
    expect(Object.fromEntries(opened)).toEqual(Object.fromEntries(reported));
    expect(opened.has('7000')).toBe(false);
    expect(opened.has('other')).toBe(false);
  });
}, SERVER_TOOLS);
