/**
 * Writing reports and drafts. A regular file is replaced atomically (temporary file beside it,
 * fsync, rename, fsync of the folder), keeping the mode and owner of the file it replaces, as
 * write-file-atomic does. Anything else the user names (a character device such as /dev/null,
 * a FIFO, /dev/stdout and the /proc/self/fd links behind it) is written to directly and never
 * replaced: renaming a file over /dev/null as root would break the system. No temporary file
 * outlives the process, whatever way it ends (a hook on 'exit' removes the ones in flight).
 */
import { randomBytes } from 'node:crypto';
import { constants, unlinkSync } from 'node:fs';
import { access, lstat, open, readlink, realpath, rename, stat, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { PortmatrixError } from '../errors.js';
import { describeFileKind } from './file-kind.js';

const TEMP_PREFIX = '.portmatrix-tmp-';
const MAX_LINK_HOPS = 40;

const tempFilesInFlight = new Set<string>();
let exitHookInstalled = false;

function track(temp: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // process.exit() during a write (a third signal, a bug) must not leave a temp file behind.
    process.on('exit', () => {
      for (const file of tempFilesInFlight) {
        try {
          unlinkSync(file);
        } catch {
          // already renamed or removed
        }
      }
    });
  }
  tempFilesInFlight.add(temp);
}

function outputError(file: string, cause: unknown): PortmatrixError {
  const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
  return new PortmatrixError('E_OUTPUT', `cannot write ${JSON.stringify(file)}: ${code}`, {
    hint: 'check that the folder exists and is writable and that the disk has room',
    cause,
  });
}

type OutputPlan =
  | { kind: 'new'; file: string }
  | { kind: 'replace'; file: string; existing: Stats }
  | { kind: 'direct'; file: string; what: string };

/** True when a link on the way points into /proc or /dev/fd: /dev/stdout is the caller's descriptor, not a file to replace. */
async function goesThroughDescriptorLink(file: string): Promise<boolean> {
  let current = path.resolve(file);
  for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
    if (/^\/(proc\/[^/]+\/fd|dev\/fd)\//.test(current)) return true;
    const info = await lstat(current).catch(() => undefined);
    if (!info?.isSymbolicLink()) return false;
    current = path.resolve(path.dirname(current), await readlink(current));
  }
  return false;
}

/** What writing `file` means: a new file, an atomic replacement of a regular file, or a direct write. */
async function planOutput(file: string): Promise<OutputPlan> {
  if (await goesThroughDescriptorLink(file)) return { kind: 'direct', file, what: 'a descriptor link' };
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  // A dangling symbolic link: replacing it would break the link; writing through it creates its target.
  if (!info) return (await lstat(file).catch(() => undefined))?.isSymbolicLink() ? { kind: 'direct', file, what: 'a dangling link' } : { kind: 'new', file };
  if (info.isFile()) {
    // Through a symbolic link, the file it points to is replaced and the link stays.
    return { kind: 'replace', file: await realpath(file), existing: info };
  }
  if (info.isDirectory() || info.isSocket()) throw Object.assign(new Error(`it is ${describeFileKind(info)}`), { code: info.isDirectory() ? 'EISDIR' : 'ENXIO' });
  return { kind: 'direct', file, what: describeFileKind(info) };
}

/**
 * Writes a whole report or nothing: a reader never sees half a file, and an existing file
 * keeps its mode and owner. Devices, FIFOs and descriptor links are written directly.
 */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  let plan: OutputPlan;
  try {
    plan = await planOutput(file);
  } catch (cause) {
    throw outputError(file, cause);
  }
  if (plan.kind === 'direct') {
    try {
      // Append: /dev/stdout redirected with >> keeps what is there; devices and FIFOs ignore it.
      const handle = await open(plan.file, constants.O_WRONLY | constants.O_APPEND | constants.O_NOCTTY);
      try {
        await handle.writeFile(content);
      } finally {
        await handle.close();
      }
    } catch (cause) {
      throw outputError(file, cause);
    }
    return;
  }
  const folder = path.dirname(plan.file);
  const temp = path.join(folder, `${TEMP_PREFIX}${path.basename(plan.file)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  track(temp);
  try {
    const mode = plan.kind === 'replace' ? plan.existing.mode & 0o7777 : 0o666;
    const handle = await open(temp, 'wx', mode);
    try {
      if (plan.kind === 'replace') {
        // open() applied the umask; the replaced file's own mode and owner come back explicitly.
        await handle.chmod(mode);
        const { uid, gid } = plan.existing;
        if (process.getuid?.() === 0 && (uid !== process.getuid() || gid !== process.getgid?.())) await handle.chown(uid, gid);
      }
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, plan.file);
    tempFilesInFlight.delete(temp);
    await syncFolder(folder);
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    tempFilesInFlight.delete(temp);
    throw outputError(file, cause);
  }
}

/** The rename is durable once the folder's entry is on disk; some file systems refuse fsync on a folder. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, constants.O_RDONLY).catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

/**
 * Fails now, before a scan, if `file` could not be written later. A regular or new file is
 * replaced through a temporary file beside it, so the folder itself must take a new file
 * (a permission check alone passes for root on /proc or a read-only mount). A device, FIFO or
 * descriptor link only has to be writable.
 */
export async function checkOutputPath(file: string, option = '--output'): Promise<void> {
  const fail = (what: string, hint = 'choose a writable file path'): never => {
    throw new PortmatrixError('E_OUTPUT', `cannot write ${option} ${file}: ${what}`, { hint });
  };
  if (file.trim() === '') fail('empty path', 'name a file, e.g. --output audit.json');
  if (file.endsWith('/')) fail('names a folder (ends with /)', 'name a file inside it, e.g. reports/audit');
  let plan: OutputPlan;
  try {
    plan = await planOutput(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(code === 'EISDIR' ? 'it is a directory' : code === 'ENXIO' ? 'it is a socket' : `cannot be checked (${code ?? (error as Error).message})`);
  }
  if (plan.kind === 'direct') {
    await access(plan.file, constants.W_OK).catch((error: NodeJS.ErrnoException) => fail(`${plan.what} that is not writable (${error.code ?? 'error'})`));
    return;
  }
  const folder = path.dirname(plan.file);
  const folderInfo = await stat(folder).catch(() => undefined);
  if (!folderInfo) fail(`folder ${path.dirname(file)} does not exist`, 'create it first, or choose another path');
  if (!folderInfo?.isDirectory()) fail(`${path.dirname(file)} is not a folder`);
  if (plan.kind === 'replace') await access(plan.file, constants.W_OK).catch(() => fail('the file is not writable'));
  const probe = path.join(folder, `${TEMP_PREFIX}check.${process.pid}.${randomBytes(4).toString('hex')}`);
  track(probe);
  const handle = await open(probe, 'wx').catch((error: NodeJS.ErrnoException) =>
    fail(`folder ${path.dirname(file)} does not take new files (${error.code ?? error.message})`),
  );
  await handle.close();
  await unlink(probe).catch(() => undefined);
  tempFilesInFlight.delete(probe);
}
