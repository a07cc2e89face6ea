/**
 * fixtures/results/*.json are saved results built from test/unit/conformance/sample.ts with the
 * real conformance engine. This test keeps them in step: it fails when the engine or the
 * sample changes what a file should hold. Regenerate with UPDATE_FIXTURES=1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderJson } from '../../../src/report/json.js';
import { sampleResults } from '../conformance/sample.js';

const RESULTS_DIR = new URL('../../../fixtures/results/', import.meta.url);

describe('saved result fixtures', () => {
  it.each(Object.entries(sampleResults()))('%s matches what the engine produces', (name, result) => {
    const expected = renderJson(result);
    if (process.env.UPDATE_FIXTURES === '1') writeFileSync(new URL(name, RESULTS_DIR), expected);
    expect(readFileSync(new URL(name, RESULTS_DIR), 'utf8')).toBe(expected);
  });
});
