import { readFileSync, readdirSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { PortmatrixError } from '../../../src/errors.js';
import { parseResultText } from '../../../src/report/parse-result.js';
import { renderJson } from '../../../src/report/json.js';
import { renderResultSchema } from '../../../scripts/write-result-schema.js';

const ROOT = new URL('../../../', import.meta.url);
const committed = readFileSync(new URL('schemas/result.schema.json', ROOT), 'utf8');

function resultError(text: string): string {
  try {
    parseResultText(text, 'run.json');
  } catch (error) {
    expect(error).toBeInstanceOf(PortmatrixError);
    expect((error as PortmatrixError).exitCode).toBe(2);
    return (error as PortmatrixError).message;
  }
  throw new Error('parsed without error');
}

describe('result JSON Schema', () => {
  it('is what the zod schema generates (run npm run schema:result after changing the model)', () => {
    expect(committed).toBe(renderResultSchema());
  });

  it('validates every saved result, and the JSON renderer output', () => {
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(committed));
    const dir = new URL('fixtures/results/', ROOT);
    const names = readdirSync(dir).filter((name) => name.endsWith('.json'));
    expect(names.length).toBeGreaterThanOrEqual(3);
    for (const name of names) {
      const text = readFileSync(new URL(name, dir), 'utf8');
      const rendered = JSON.parse(renderJson(parseResultText(text, name)));
      expect(validate(rendered), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('rejects a result with a wrong field', () => {
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(committed));
    const result = JSON.parse(readFileSync(new URL('fixtures/results/ip-office-drift.json', ROOT), 'utf8'));
    result.hosts[0].observations[0].state = 'half-open';
    expect(validate(result)).toBe(false);
  });
});

describe('reading a saved result', () => {
  const good = readFileSync(new URL('fixtures/results/ip-office-drift.json', ROOT), 'utf8');
  it('says what is wrong in one line', () => {
    expect(resultError('{"a": 1,}')).toBe('run.json:1:9: not a portmatrix result: invalid JSON (Expected double-quoted property name)');
    expect(resultError('{"hosts": []}')).toBe('run.json: not a portmatrix result (no "schema": "portmatrix/result")');
    expect(resultError(good.replace('"schemaVersion": 1', '"schemaVersion": 2'))).toBe(
      'run.json: result schemaVersion 2 is newer than this portmatrix reads (1)',
    );
    expect(resultError(good.replace('"state": "open"', '"state": "half-open"'))).toMatch(/^run\.json: hosts\[0\]\.observations\[\d+\]\.state: /);
  });
});
