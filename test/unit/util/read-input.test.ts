/** The bounded input reader: regular files only, refused at once otherwise, and never past the bound. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PortmatrixError } from '../../../src/errors.js';
import { readInputText } from '../../../src/util/read-input.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pm-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const source = { label: 'input', code: 'E_RESULT', hint: 'give a file' } as const;

async function failure(promise: Promise<unknown>): Promise<PortmatrixError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PortmatrixError);
  return error as PortmatrixError;
}

describe('readInputText', () => {
  it('reads a regular file whole', async () => {
    const file = path.join(dir, 'ok.txt');
    writeFileSync(file, 'é\n'.repeat(1000));
    expect(await readInputText(file, source)).toBe('é\n'.repeat(1000));
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const error = await failure(readInputText(fifo, source));
    expect(error.message).toBe(`input is a FIFO, not a regular file`);
    expect(error.exitCode).toBe(2);
  });

  it('refuses a directory and names a missing file', async () => {
    expect((await failure(readInputText(dir, source))).message).toBe('input is a directory, not a regular file');
    expect((await failure(readInputText(path.join(dir, 'nope'), source))).message).toBe('cannot read input: ENOENT');
  });

  it('refuses a file one byte over the bound, reads one at the bound', async () => {
    const file = path.join(dir, 'big.txt');
    writeFileSync(file, 'x'.repeat(1025));
    const error = await failure(readInputText(file, { ...source, maxBytes: 1024 }));
    expect(error.message).toBe('input: 1025 bytes, more than the 1024 bytes limit for input files');
    writeFileSync(file, 'x'.repeat(1024));
    expect((await readInputText(file, { ...source, maxBytes: 1024 })).length).toBe(1024);
  });

  it('refuses a device (/dev/zero would stream forever)', async () => {
    expect((await failure(readInputText('/dev/zero', source))).message).toBe('input is a character device, not a regular file');
  });
});
