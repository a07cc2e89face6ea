/**
 * Reading an input file (matrix, policy, saved result, targets, imported document) with a
 * stated bound: at most MAX_INPUT_BYTES, and only a regular file, checked before it is opened
 * and again on the open descriptor, so a FIFO, a device or a socket is refused at once instead
 * of hanging or streaming forever. Targets may also come from standard input ("-"), within
 * the same bound.
 */
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { MAX_INPUT_BYTES } from '../defaults.js';
import { PortmatrixError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { describeFileKind } from './file-kind.js';

export interface InputSource {
  /** How the message names the input: `matrix "x.yaml"`, `--policy p.yaml`. */
  label: string;
  code: ErrorCode;
  /** What to do, for messages about the file itself (missing, unreadable). */
  hint: string;
  /** "-" reads standard input. */
  allowStdin?: boolean;
  maxBytes?: number;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`;
}

function tooLarge(source: InputSource, size: string, maxBytes: number): PortmatrixError {
  return new PortmatrixError(source.code, `${source.label}: ${size}, more than the ${formatBytes(maxBytes)} limit for input files`, {
    hint: 'inputs are port matrices, policies, results and target lists; check that this is the right file',
  });
}

/** The whole text of a regular file or of standard input, refused beyond the bound. */
export async function readInputText(file: string, source: InputSource): Promise<string> {
  const maxBytes = source.maxBytes ?? MAX_INPUT_BYTES;
  if (file === '-' && source.allowStdin) return readStdin(source, maxBytes);
  const cannotRead = (cause: unknown): PortmatrixError => {
    const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    return new PortmatrixError(source.code, `cannot read ${source.label}: ${code}`, { hint: source.hint, cause });
  };
  const notRegular = (info: Stats): PortmatrixError =>
    new PortmatrixError(source.code, `${source.label} is ${describeFileKind(info)}, not a regular file`, {
      hint: source.allowStdin ? 'give a regular file, or - to read standard input' : 'give the path of a regular file',
    });
  const before = await stat(file).catch((cause: unknown) => {
    throw cannotRead(cause);
  });
  if (!before.isFile()) throw notRegular(before);
  if (before.size > maxBytes) throw tooLarge(source, formatBytes(before.size), maxBytes);
  // O_NONBLOCK: if the path was swapped for a FIFO since the check, open() still returns at once.
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY).catch((cause: unknown) => {
    throw cannotRead(cause);
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notRegular(info);
    // Read to the end, not to the size stat() gave: a file that grows meanwhile is still bounded.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(Math.max(info.size - length, 0) + 1, maxBytes + 1 - length, 1024 * 1024));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw tooLarge(source, `more than ${formatBytes(maxBytes)}`, maxBytes);
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    if (error instanceof PortmatrixError) throw error;
    throw cannotRead(error);
  } finally {
    await handle.close();
  }
}

async function readStdin(source: InputSource, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of process.stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    length += buffer.length;
    if (length > maxBytes) {
      process.stdin.destroy();
      throw tooLarge(source, `more than ${formatBytes(maxBytes)}`, maxBytes);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
