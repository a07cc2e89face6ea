/**
 * The emulated target's TLS certificate, made with the openssl command at start: a private CA
 * and a leaf for the target's address (subjectAltName IP), so a checked service shows what a
 * well-kept appliance shows (not self-signed, names the address, valid for a year) and every
 * certificate finding the demo reports comes from injected drift, not from the emulator.
 * EC P-256 keys: made in milliseconds.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
export const EMULATOR_CERTIFICATE_DAYS = 365;

export interface EmulatorCertificate {
  /** PEM: the leaf, then the CA. */
  cert: string;
  key: string;
}

export async function makeEmulatorCertificate(address: string): Promise<EmulatorCertificate> {
  const dir = await mkdtemp(path.join(tmpdir(), 'portmatrix-emulator-cert-'));
  const file = (name: string): string => path.join(dir, name);
  try {
    await run('openssl', ['req', '-x509', ...EC, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '3650', '-subj', '/O=portmatrix emulator/CN=portmatrix emulator CA']);
    await run('openssl', ['req', '-new', ...EC, '-keyout', file('leaf.key'), '-out', file('leaf.csr'), '-subj', '/O=portmatrix emulator/CN=ipoffice.emulated']);
    await writeFile(file('leaf.ext'), `subjectAltName = IP:${address}, DNS:ipoffice.emulated\nextendedKeyUsage = serverAuth\n`);
    await run('openssl', ['x509', '-req', '-in', file('leaf.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('leaf.pem'), '-days', String(EMULATOR_CERTIFICATE_DAYS), '-extfile', file('leaf.ext')]);
    const [leaf, ca, key] = await Promise.all([readFile(file('leaf.pem'), 'utf8'), readFile(file('ca.pem'), 'utf8'), readFile(file('leaf.key'), 'utf8')]);
    return { cert: `${leaf}${ca}`, key };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
