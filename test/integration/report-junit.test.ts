/** JUnit output validates against the JUnit XML schema (fixtures/junit/junit-ant.xsd), nmap XML against nmap.dtd, with xmllint. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderJunit } from '../../src/report/junit.js';
import { renderNmapXml } from '../../src/report/nmap-xml.js';
import { parseResultText } from '../../src/report/parse-result.js';
import type { ScanResult } from '../../src/result/model.js';
import { describeNeeding, itNeeding } from '../helpers/requirements.js';

const ROOT = new URL('../../', import.meta.url);
const XSD = new URL('fixtures/junit/junit-ant.xsd', ROOT).pathname;
const dir = mkdtempSync(join(tmpdir(), 'portmatrix-junit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(name: string): ScanResult {
  return parseResultText(readFileSync(new URL(`fixtures/results/${name}`, ROOT), 'utf8'), name);
}

/** xmllint's verdict: '' when valid, its complaint otherwise. */
function validate(xml: string, name: string): string {
  const file = join(dir, name);
  writeFileSync(file, xml);
  try {
    execFileSync('xmllint', ['--noout', '--schema', XSD, file], { stdio: 'pipe', timeout: 30_000 });
    return '';
  } catch (error) {
    return String((error as { stderr?: Buffer }).stderr ?? error);
  }
}

describeNeeding('JUnit XML against the JUnit XSD', { tools: ['xmllint'] }, () => {
  it.each(['ip-office-drift.json', 'ip-office-conformant.json', 'ip-office-drift-waived.json'])('%s validates against the JUnit XSD', (name) => {
    expect(validate(renderJunit(load(name)), `${name}.xml`)).toBe('');
  });

  it('the XSD really rejects a malformed report', () => {
    const broken = renderJunit(load('ip-office-drift.json')).replace('<system-err></system-err>', '');
    expect(validate(broken, 'broken.xml')).toContain('system-err');
  });
});

describe('JUnit XML', () => {
  it('has a testcase per expected listener and per extra listener, failing at the --fail-on level', () => {
    const result = load('ip-office-drift.json');
    const xml = renderJunit(result);
    // 12 expected ports + tcp/8080 (not in the matrix) + udp/45000 (dynamic range).
    expect(xml).toContain('tests="14" failures="2" errors="0" skipped="0"');
    expect(xml).toContain('<failure type="missing-listener"');
    expect(xml).toContain('<failure type="extra-listener"');
    const atNotice = renderJunit({ ...result, conformance: { ...result.conformance!, failOn: 'notice' } });
    expect(atNotice).toContain('tests="14" failures="9"');
    expect(renderJunit(load('ip-office-conformant.json'))).toContain('tests="12" failures="0"');
  });

  it('escapes hostile banners', () => {
    const xml = renderJunit({ ...load('ip-office-drift.json'), conformance: { ...load('ip-office-drift.json').conformance!, failOn: 'notice' } });
    expect(xml).not.toContain('<script>');
    expect(xml).toContain('&lt;script&gt;');
  });
});

describe('nmap XML', () => {
  const DTD = '/usr/share/nmap/nmap.dtd';
  itNeeding('validates against nmap.dtd (apart from scanner="portmatrix")', { tools: ['xmllint', DTD] }, () => {
    const xml = renderNmapXml(load('ip-office-drift.json'));
    expect(xml).toContain('<nmaprun scanner="portmatrix"');
    // As nmap writes it: one extraports per state, its count summed over protocols, reasons per protocol.
    expect(xml).toContain('<extraports state="closed" count="75526">');
    expect(xml).toContain('<extrareasons reason="conn-refused" count="65526" proto="tcp"/>');
    expect(xml).toContain('<extrareasons reason="port-unreach" count="10000" proto="udp"/>');
    expect(xml).toContain('<port protocol="udp" portid="5060"><state state="closed" reason="port-unreach" reason_ttl="0"/></port>');
    expect(xml).not.toContain('<script>');
    const file = join(dir, 'scan.nmap.xml');
    // The DTD allows only scanner="nmap"; every other element and attribute must be nmap's.
    writeFileSync(file, xml.replace('scanner="portmatrix"', 'scanner="nmap"'));
    const outcome = spawnSync('xmllint', ['--noout', '--dtdvalid', DTD, file], { encoding: 'utf8', timeout: 30_000 });
    expect(outcome.stderr).toBe('');
    expect(outcome.status).toBe(0);
  });
});
