/** The test-requirement helpers and the source-document locator say what is missing, and only that. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { locateSourceDocuments, SOURCES_VARIABLE } from '../../../scripts/source-documents.js';
import { findExecutable } from '../../../src/util/find-executable.js';
import { unmetNeeds } from '../../helpers/requirements.js';

const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-requirements-'));
const saved = { PATH: process.env.PATH, [SOURCES_VARIABLE]: process.env[SOURCES_VARIABLE] };
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('findExecutable', () => {
  it('finds an executable file in PATH, not a plain file or a folder of that name', () => {
    const [first, second] = [path.join(work, 'first'), path.join(work, 'second')];
    mkdirSync(path.join(first, 'tool'), { recursive: true });
    mkdirSync(second);
    writeFileSync(path.join(second, 'tool'), '#!/bin/sh\n', { mode: 0o644 });
    const searchPath = `${first}${path.delimiter}${second}`;
    expect(findExecutable('tool', searchPath)).toBeUndefined();
    chmodSync(path.join(second, 'tool'), 0o755);
    expect(findExecutable('tool', searchPath)).toBe(path.join(second, 'tool'));
  });
});

describe('unmetNeeds', () => {
  it('names each missing tool with its Debian package, from scripts/test-deps.txt', () => {
    process.env.PATH = path.join(work, 'nothing-here');
    expect(unmetNeeds({ tools: ['nft', 'xmllint'] })).toEqual(['nft (nftables)', 'xmllint (libxml2-utils)']);
    const bin = path.join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'nft'), '#!/bin/sh\n', { mode: 0o755 });
    process.env.PATH = bin;
    expect(unmetNeeds({ tools: ['nft', 'xmllint'] })).toEqual(['xmllint (libxml2-utils)']);
  });

  it('refuses a tool that the install list does not know (npm run test:deps could not install it)', () => {
    expect(() => unmetNeeds({ tools: ['no-such-tool'] })).toThrow(/not in scripts\/test-deps\.txt/);
  });

  it('finds the source documents through PORTMATRIX_SOURCES, and says what to set when they are absent', () => {
    process.env[SOURCES_VARIABLE] = work;
    expect(locateSourceDocuments()).toEqual({ dir: work });
    expect(unmetNeeds({ sources: true })).toEqual([]);
    process.env[SOURCES_VARIABLE] = path.join(work, 'absent');
    expect(unmetNeeds({ sources: true })).toEqual([`the vendor source documents (${SOURCES_VARIABLE}=${path.join(work, 'absent')}: no such folder)`]);
  });
});
