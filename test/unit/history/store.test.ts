import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHistoryDir, entryName, publishRun, readLatest } from '../../../src/history/store.js';

const work = mkdtempSync(path.join(tmpdir(), 'portmatrix-history-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('history store', () => {
  it('publishes runs under timestamped names, points latest at the newest, keeps N, and leaves other files alone', async () => {
    const dir = path.join(work, 'h');
    expect(await readLatest(dir)).toBeUndefined();
    await mkdir(dir);
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const times = ['2026-12-01T02:15:00.000Z', '2026-12-02T02:15:00.000Z', '2026-12-03T02:15:00.000Z'];
    const removed: string[] = [];
    for (const time of times) {
      const entry = await publishRun(dir, entryName(time), 2, async (temp) => {
        await mkdir(temp);
        await writeFile(path.join(temp, 'audit.json'), time);
      });
      removed.push(...entry.removed);
      expect(await readLatest(dir)).toBe(entry.path);
    }
    expect(readdirSync(dir).sort()).toEqual(['2026-12-02T02-15-00.000Z', '2026-12-03T02-15-00.000Z', 'latest', 'notes.txt']);
    expect(removed).toEqual([path.join(dir, '2026-12-01T02-15-00.000Z')]);
    expect(readlinkSync(path.join(dir, 'latest'))).toBe('2026-12-03T02-15-00.000Z');
    expect(readFileSync(path.join(dir, 'latest', 'audit.json'), 'utf8')).toBe(times[2]);
  });

  it('publishes nothing when writing the run fails: no entry, no temporary file, latest unchanged', async () => {
    const dir = path.join(work, 'fail');
    const first = await publishRun(dir, entryName('2026-12-01T00:00:00.000Z'), 5, (temp) => writeFile(temp, '{}'));
    await expect(
      publishRun(dir, entryName('2026-12-02T00:00:00.000Z'), 5, async (temp) => {
        await writeFile(temp, 'half');
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(readdirSync(dir).sort()).toEqual(['2026-12-01T00-00-00.000Z', 'latest']);
    expect(await readLatest(dir)).toBe(first.path);
  });

  it('two runs that started in the same millisecond: both kept, under distinct names in run order, files and folders alike', async () => {
    const time = '2026-12-04T02:15:00.000Z';
    for (const [dir, write] of [
      [path.join(work, 'same-files'), (text: string) => (temp: string) => writeFile(temp, text)],
      [path.join(work, 'same-folders'), (text: string) => async (temp: string) => {
        await mkdir(temp);
        await writeFile(path.join(temp, 'audit.json'), text);
      }],
    ] as const) {
      const extension = dir.endsWith('files') ? '.json' : '';
      const first = await publishRun(dir, entryName(time, extension), 10, write('first'));
      const second = await publishRun(dir, entryName(time, extension), 10, write('second'));
      const third = await publishRun(dir, entryName(time, extension), 10, write('third'));
      expect([first.path, second.path, third.path].map((entry) => path.basename(entry))).toEqual([
        `2026-12-04T02-15-00.000Z${extension}`,
        `2026-12-04T02-15-00.000Z_2${extension}`,
        `2026-12-04T02-15-00.000Z_3${extension}`,
      ]);
      const read = (entry: string) => readFileSync(extension ? entry : path.join(entry, 'audit.json'), 'utf8');
      expect([first.path, second.path, third.path].map(read)).toEqual(['first', 'second', 'third']);
      expect(await readLatest(dir)).toBe(third.path);
      // Sorted by name, the runs are in the order they were published: --keep removes the oldest.
      const pruned = await publishRun(dir, entryName('2026-12-05T00:00:00.000Z', extension), 2, write('fourth'));
      expect(pruned.removed).toEqual([first.path, second.path]);
    }
  });

  it('a history that cannot be written is refused before the run: a file, a path through a file', async () => {
    writeFileSync(path.join(work, 'plain-file'), 'x');
    await expect(checkHistoryDir(path.join(work, 'plain-file'))).rejects.toThrow(/--history .*plain-file: not a folder/);
    await expect(checkHistoryDir(path.join(work, 'plain-file', 'below'))).rejects.toThrow(/--history .*below: ENOTDIR/);
    const fine = path.join(work, 'new', 'history');
    await checkHistoryDir(fine);
    // Created, and the probe file left nothing behind.
    expect(readdirSync(fine)).toEqual([]);
  });
});
