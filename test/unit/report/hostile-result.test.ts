/**
 * A saved result is anyone's file: every free-text field of it carrying terminal escapes, a BEL,
 * a one-character CSI (U+009B), a bidi override and U+FFFF must reach no report raw, and the XML
 * formats must stay well-formed. Enumerated fields (states, reasons, kinds) stay as they are:
 * the result schema refuses anything else in them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RENDERERS } from '../../../src/report/index.js';
import type { ScanResult } from '../../../src/result/model.js';
import { describeNeeding } from '../../helpers/requirements.js';

const ENUMERATED = new Set(['state', 'reason', 'transport', 'kind', 'severity', 'startedAt', 'finishedAt', 'expires', 'schema', 'failOn', 'direction', 'scanType', 'prober', 'udpConfirm', 'profile']);
const HOSTILE = '\u001b]0;owned\u0007\u001b[2J\u009b1m\u202e\uffff';
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\uffff]/;

function taint(value: unknown, key: string): unknown {
  if (typeof value === 'string') return ENUMERATED.has(key) ? value : `${value}${HOSTILE}`;
  if (Array.isArray(value)) return value.map((item) => taint(item, key));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, taint(item, name)]));
  return value;
}

const tainted = taint(JSON.parse(readFileSync(new URL('../../../fixtures/results/ip-office-drift-waived.json', import.meta.url), 'utf8')), '') as ScanResult;
const { conformance: _conformance, ...withoutMatrix } = tainted;

describe.each([
  ['with a matrix', tainted],
  ['without a matrix', withoutMatrix as ScanResult],
])('a result with hostile text everywhere (%s)', (_name, result) => {
  it.each(Object.keys(RENDERERS))('%s shows it, never obeys it', (format) => {
    const output = RENDERERS[format as keyof typeof RENDERERS](result);
    expect(output).toContain('owned');
    expect(output).not.toMatch(RAW_CONTROL);
  });
});

describeNeeding('hostile text in the XML formats is well-formed (xmllint)', { tools: ['xmllint'] }, () => {
  it.each([
    ['junit', tainted],
    ['nmap-xml', tainted],
    ['junit', withoutMatrix as ScanResult],
    ['nmap-xml', withoutMatrix as ScanResult],
  ] as const)('%s', (format, result) => {
    execFileSync('xmllint', ['--noout', '-'], { input: RENDERERS[format](result), stdio: ['pipe', 'pipe', 'pipe'] });
  });
});
