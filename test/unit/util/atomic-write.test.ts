/**
 * The output writer: an existing regular file keeps its mode and owner, a device, a FIFO or a
 * descriptor link is written to and never replaced, and no temporary file is left behind.
 * Device nodes are made with mknod in the test's own folder, never under /dev.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PortmatrixError } from '../../../src/errors.js';
import { checkOutputPath, writeFileAtomic } from '../../../src/util/atomic-write.js';
import { describeNeeding } from '../../helpers/requirements.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pm-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const leftovers = (): string[] => readdirSync(dir).filter((name) => name.startsWith('.portmatrix-'));

describe('writeFileAtomic', () => {
  it('replaces a regular file whole, keeps its mode, leaves no temporary file', async () => {
    const file = path.join(dir, 'report.json');
    writeFileSync(file, 'old');
    chmodSync(file, 0o600);
    await writeFileAtomic(file, 'new content');
    expect(readFileSync(file, 'utf8')).toBe('new content');
    expect(statSync(file).mode & 0o7777).toBe(0o600);
    expect(leftovers()).toEqual([]);
  });

  it('writes through a symbolic link to a regular file: the link stays a link', async () => {
    const target = path.join(dir, 'real.txt');
    const link = path.join(dir, 'link.txt');
    writeFileSync(target, 'old');
    symlinkSync(target, link);
    await writeFileAtomic(link, 'through the link');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('through the link');
  });

  it('writes into a FIFO (a reader gets the whole text), never replaces it', async () => {
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo]);
    let received = '';
    reader.stdout.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const closed = new Promise((resolve) => reader.on('close', resolve));
    await writeFileAtomic(fifo, 'x'.repeat(200_000));
    await closed;
    expect(received.length).toBe(200_000);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('writes to a /proc/self/fd link as the descriptor it is: the file behind it keeps its inode', async () => {
    const file = path.join(dir, 'behind-fd.txt');
    writeFileSync(file, 'start;');
    const fd = openSync(file, 'a');
    const link = path.join(dir, 'stdout-like');
    symlinkSync(`/proc/self/fd/${fd}`, link);
    const inode = statSync(file).ino;
    await writeFileAtomic(link, 'appended');
    closeSync(fd);
    expect(statSync(file).ino).toBe(inode);
    expect(readFileSync(file, 'utf8')).toBe('start;appended');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('a folder or a missing folder is one E_OUTPUT error and creates nothing', async () => {
    await expect(writeFileAtomic(dir, 'x')).rejects.toThrow(PortmatrixError);
    await expect(writeFileAtomic(path.join(dir, 'no/such/x'), 'x')).rejects.toThrow(/cannot write .*ENOENT/);
    expect(leftovers()).toEqual([]);
  });
});

describe('checkOutputPath', () => {
  it('refuses an empty path, a folder, a trailing slash and a missing folder; accepts a new file', async () => {
    await expect(checkOutputPath('')).rejects.toThrow('cannot write --output : empty path');
    await expect(checkOutputPath(dir)).rejects.toThrow('it is a directory');
    await expect(checkOutputPath(`${dir}/sub/`)).rejects.toThrow('names a folder');
    await expect(checkOutputPath(path.join(dir, 'nosuchdir/x'))).rejects.toThrow('does not exist');
    await expect(checkOutputPath(path.join(dir, 'fresh.json'))).resolves.toBeUndefined();
    expect(leftovers()).toEqual([]);
  });
});

describeNeeding('writeFileAtomic as root (device nodes, owners)', { root: true }, () => {
  it('a null device made with mknod stays a device; its numbers do not change', async () => {
    const device = path.join(dir, 'null');
    execFileSync('mknod', ['-m', '666', device, 'c', '1', '3']);
    const before = statSync(device);
    await checkOutputPath(device);
    await writeFileAtomic(device, 'discarded');
    const after = lstatSync(device);
    expect(after.isCharacterDevice()).toBe(true);
    expect([after.rdev, after.ino]).toEqual([before.rdev, before.ino]);
  });

  it('a full device gives one E_OUTPUT error (ENOSPC) and stays a device', async () => {
    const device = path.join(dir, 'full');
    execFileSync('mknod', ['-m', '666', device, 'c', '1', '7']);
    await expect(writeFileAtomic(device, 'x')).rejects.toThrow(/cannot write .*ENOSPC/);
    expect(lstatSync(device).isCharacterDevice()).toBe(true);
  });

  it('keeps the owner and mode of a file it replaces (0600 nobody stays 0600 nobody)', async () => {
    const file = path.join(dir, 'owned.json');
    writeFileSync(file, 'old');
    chownSync(file, 65534, 65534);
    chmodSync(file, 0o600);
    await writeFileAtomic(file, 'new');
    const info = statSync(file);
    expect([info.uid, info.gid, info.mode & 0o7777]).toEqual([65534, 65534, 0o600]);
  });
});
