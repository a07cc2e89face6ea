import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { diffResults } from '../../../src/conformance/drift.js';
import { DRIFT_RENDERERS } from '../../../src/report/drift/index.js';
import { PUBLISHED_SCHEMAS } from '../../../scripts/write-result-schema.js';
import { buildResult, conformantHost, driftedHost, WAIVER_POLICY } from '../conformance/sample.js';

const ROOT = new URL('../../../', import.meta.url);

/** The conformant host, then the same host drifted (one run later). */
function drifted() {
  const before = buildResult({ hosts: [conformantHost()] });
  const after = buildResult({ hosts: [{ ...driftedHost(), address: conformantHost().address }] });
  return diffResults(before, after);
}

describe('published schemas', () => {
  it.each(Object.keys(PUBLISHED_SCHEMAS))('%s is what its zod schema generates (npm run schema:result)', (file) => {
    expect(readFileSync(new URL(`schemas/${file}`, ROOT), 'utf8')).toBe(PUBLISHED_SCHEMAS[file]!());
  });
});

describe('drift renderers', () => {
  it('JSON is self-describing and valid against schemas/drift.schema.json', () => {
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(new URL('schemas/drift.schema.json', ROOT), 'utf8')));
    const json = JSON.parse(DRIFT_RENDERERS.json(drifted()));
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(json).toMatchObject({ schema: 'portmatrix/drift', schemaVersion: 1, equal: false });
  });

  it('every format names the appeared finding and the port change, and says "no change" for equal runs', () => {
    const drift = drifted();
    for (const [format, render] of Object.entries(DRIFT_RENDERERS)) {
      const text = render(drift);
      expect(text, format).toMatch(/tcp\/8080/);
      expect(text, format).toMatch(/appeared/);
      const same = render(diffResults(buildResult({ hosts: [conformantHost()] }), buildResult({ hosts: [conformantHost()] })));
      expect(same, format).toMatch(format === 'json' ? /"equal": true/ : /no change on 1 host/);
    }
  });

  it('reports a waiver that expired between the runs', () => {
    const before = buildResult({ hosts: [driftedHost()], policy: WAIVER_POLICY });
    const lapsed = { ...WAIVER_POLICY, waivers: WAIVER_POLICY.waivers.map((waiver) => ({ ...waiver, expires: '2020-01-01' })) };
    const drift = diffResults(before, buildResult({ hosts: [driftedHost()], policy: lapsed }));
    const expired = drift.hosts[0]!.changed.filter((change) => change.changes.includes('waiver-expired'));
    expect(expired.map((change) => `${change.after.transport}/${change.after.port}`)).toEqual(['tcp/8080']);
    expect(DRIFT_RENDERERS.table(drift)).toMatch(/tcp\/8080: severity off -> error; waiver CHG-1042 expired 2020-01-01/);
  });

  it('escapes untrusted text (a host name from a targets file) in every format', () => {
    const hostile = '<img src=x>\u001b[31m|evil';
    const drift = diffResults(buildResult({ hosts: [] }), buildResult({ hosts: [{ ...driftedHost(), name: hostile }] }));
    expect(DRIFT_RENDERERS.html(drift)).toContain('&lt;img src=x&gt;');
    expect(DRIFT_RENDERERS.html(drift)).not.toContain('<img');
    expect(DRIFT_RENDERERS.markdown(drift)).toContain('&lt;img src=x&gt;');
    expect(DRIFT_RENDERERS.markdown(drift)).toContain('\\|evil');
    expect(DRIFT_RENDERERS.table(drift)).not.toContain('\u001b[31m');
  });
});
