/**
 * The run history (`--history DIR`): every run kept under a timestamped name (a report folder
 * for an audit, a JSON file for a scan), published atomically (written under a temporary name,
 * then moved to a name no other run holds), a `latest` symbolic link switched atomically to the
 * newest, and the oldest removed beyond `--keep N`. Only names this store writes are ever listed
 * or removed.
 */
import { randomBytes } from 'node:crypto';
import { lstat, link, mkdir, open, readdir, readlink, rename, rm, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { PortmatrixError } from '../errors.js';

/** "<time>Z", "<time>Z_2" when two runs started in the same millisecond, then the extension. */
const ENTRY = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d{3})?Z(?:_\d+)?(?:\.json)?$/;
export const LATEST = 'latest';
/** Runs started in the same millisecond get _2, _3 ...: beyond this many something is wrong. */
const MAX_SAME_NAME = 1000;

/** "2026-12-01T02:15:00.123Z" -> "2026-12-01T02-15-00.123Z": sortable, and valid on every file system. */
export function entryName(startedAt: string, extension = ''): string {
  return `${startedAt.replaceAll(':', '-')}${extension}`;
}

/** The name's n-th variant: "…Z.json" -> "…Z_2.json" ("_" sorts after "." so the order stays the order of runs). */
function variant(name: string, n: number): string {
  if (n === 1) return name;
  const extension = name.endsWith('.json') ? '.json' : '';
  return `${name.slice(0, name.length - extension.length)}_${n}${extension}`;
}

/** The path `latest` points at, or undefined for an empty history. */
export async function readLatest(dir: string): Promise<string | undefined> {
  const link = path.join(dir, LATEST);
  try {
    const target = await readlink(link);
    // As the caller named the folder: reports then say "history/<entry>", not an absolute path.
    return path.isAbsolute(target) ? target : path.join(dir, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw historyError(dir, error);
  }
}

/**
 * Publishes a run: `write(tempPath)` fills a temporary file or folder, which then takes `name`
 * (or `name_2` ... when another run holds it: a run never replaces another); `latest` is
 * switched to it; entries beyond `keep` (oldest first) are removed.
 */
export async function publishRun(dir: string, name: string, keep: number, write: (tempPath: string) => Promise<void>): Promise<{ path: string; removed: string[] }> {
  if (!ENTRY.test(name)) throw new Error(`history entry name ${name} is not one the store writes`);
  await mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw historyError(dir, error);
  });
  const temp = path.join(dir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}-${name}`);
  let final: string;
  try {
    await write(temp);
    final = await claimName(dir, name, temp);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error instanceof PortmatrixError ? error : historyError(dir, error);
  }
  const tempLink = path.join(dir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}-${LATEST}`);
  await symlink(path.basename(final), tempLink);
  await rename(tempLink, path.join(dir, LATEST));
  return { path: final, removed: await prune(dir, keep) };
}

/**
 * Moves `temp` to the first free variant of `name`, never over another run: a file by link()
 * (fails when the name exists), a folder by rename() (fails onto a folder that is not empty,
 * and every run's folder holds its reports).
 */
async function claimName(dir: string, name: string, temp: string): Promise<string> {
  const isFolder = (await lstat(temp)).isDirectory();
  for (let n = 1; n <= MAX_SAME_NAME; n++) {
    const final = path.join(dir, variant(name, n));
    try {
      if (isFolder) await rename(temp, final);
      else {
        await link(temp, final);
        await unlink(temp);
      }
      return final;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
    }
  }
  throw new Error(`${MAX_SAME_NAME} runs named ${name}`);
}

async function prune(dir: string, keep: number): Promise<string[]> {
  const entries = (await readdir(dir)).filter((entry) => ENTRY.test(entry)).sort();
  const removed = entries.slice(0, Math.max(0, entries.length - keep));
  for (const entry of removed) await rm(path.join(dir, entry), { recursive: true, force: true });
  return removed.map((entry) => path.join(dir, entry));
}

/**
 * Whether `dir` can hold a history, checked before any packet is sent: it is created if missing,
 * and a file is created and removed in it (permissions, a read-only file system, an immutable
 * folder: whatever would refuse the run at the end refuses it now).
 */
export async function checkHistoryDir(dir: string): Promise<void> {
  const stat = await lstat(dir).catch(() => undefined);
  if (stat && !stat.isDirectory()) throw new PortmatrixError('E_OUTPUT', `--history ${dir}: not a folder`, { hint: 'name a folder for the run history' });
  const probe = path.join(dir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}-probe`);
  try {
    await mkdir(dir, { recursive: true });
    await (await open(probe, 'wx')).close();
    await unlink(probe);
  } catch (error) {
    throw historyError(dir, error);
  }
}

function historyError(dir: string, cause: unknown): PortmatrixError {
  return new PortmatrixError('E_OUTPUT', `--history ${dir}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, {
    hint: 'choose a writable folder for the run history',
    cause,
  });
}
