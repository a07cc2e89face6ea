/**
 * The run history (`--history DIR`): every run kept under a timestamped name (a report folder
 * for an audit, a JSON file for a scan), published atomically (written under a temporary name,
 * then renamed), a `latest` symbolic link switched atomically to the newest, and the oldest
 * removed beyond `--keep N`. Only names this store writes are ever listed or removed.
 */
import { lstat, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { PortmatrixError } from '../errors.js';

const ENTRY = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d{3})?Z(?:\.json)?$/;
export const LATEST = 'latest';

/** "2026-12-01T02:15:00.123Z" -> "2026-12-01T02-15-00.123Z": sortable, and valid on every file system. */
export function entryName(startedAt: string, extension = ''): string {
  return `${startedAt.replaceAll(':', '-')}${extension}`;
}

/** The path `latest` points at, or undefined for an empty history. */
export async function readLatest(dir: string): Promise<string | undefined> {
  const link = path.join(dir, LATEST);
  try {
    return path.resolve(dir, await readlink(link));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw historyError(dir, error);
  }
}

/**
 * Publishes a run: `write(tempPath)` fills a temporary file or folder, which is then renamed to
 * `name`; `latest` is switched to it; entries beyond `keep` (oldest first) are removed.
 */
export async function publishRun(dir: string, name: string, keep: number, write: (tempPath: string) => Promise<void>): Promise<{ path: string; removed: string[] }> {
  if (!ENTRY.test(name)) throw new Error(`history entry name ${name} is not one the store writes`);
  await mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw historyError(dir, error);
  });
  const temp = path.join(dir, `.tmp-${process.pid}-${name}`);
  const final = path.join(dir, name);
  try {
    await write(temp);
    await rename(temp, final);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error instanceof PortmatrixError ? error : historyError(dir, error);
  }
  const tempLink = path.join(dir, `.tmp-${process.pid}-${LATEST}`);
  await rm(tempLink, { force: true });
  await symlink(name, tempLink);
  await rename(tempLink, path.join(dir, LATEST));
  return { path: final, removed: await prune(dir, keep) };
}

async function prune(dir: string, keep: number): Promise<string[]> {
  const entries = (await readdir(dir)).filter((entry) => ENTRY.test(entry)).sort();
  const removed = entries.slice(0, Math.max(0, entries.length - keep));
  for (const entry of removed) await rm(path.join(dir, entry), { recursive: true, force: true });
  return removed.map((entry) => path.join(dir, entry));
}

/** Whether `dir` can hold a history: missing (created later) or a folder. */
export async function checkHistoryDir(dir: string): Promise<void> {
  const stat = await lstat(dir).catch(() => undefined);
  if (stat && !stat.isDirectory()) throw new PortmatrixError('E_OUTPUT', `--history ${dir}: not a folder`, { hint: 'name a folder for the run history' });
}

function historyError(dir: string, cause: unknown): PortmatrixError {
  return new PortmatrixError('E_OUTPUT', `--history ${dir}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, {
    hint: 'choose a writable folder for the run history',
    cause,
  });
}
