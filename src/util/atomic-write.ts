import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { writeFileSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PortmatrixError } from '../errors.js';

function tempPathFor(path: string): string {
  return join(dirname(path), `.portmatrix-tmp-${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}`);
}

function outputError(path: string, cause: unknown): PortmatrixError {
  const code = (cause as NodeJS.ErrnoException).code ?? 'error';
  return new PortmatrixError('E_OUTPUT', `cannot write ${path}: ${code}`, {
    hint: 'check that the folder exists and is writable',
    cause,
  });
}

/** Writes a whole file or nothing: a reader never sees half a report. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temp = tempPathFor(path);
  try {
    await writeFile(temp, content);
    await rename(temp, path);
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    throw outputError(path, cause);
  }
}

/** Synchronous variant, for the interrupt path where the event loop may not get another turn. */
export function writeFileAtomicSync(path: string, content: string): void {
  const temp = tempPathFor(path);
  try {
    writeFileSync(temp, content);
    renameSync(temp, path);
  } catch (cause) {
    try {
      unlinkSync(temp);
    } catch {
      // the temp file was never created
    }
    throw outputError(path, cause);
  }
}
