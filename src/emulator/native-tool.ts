/**
 * Builds the emulator's small C helpers (src/emulator/delayer/*.c) with the system C compiler
 * at first use, into dist/native/ (git-ignored). The binary's name carries a hash of its source,
 * so an edited source is rebuilt and concurrent processes never run a half-written binary
 * (each compiles to a temporary name and renames it into place).
 * Needs gcc (or cc) and the kernel UAPI headers (Debian: gcc, libc6-dev / linux-libc-dev).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_ROOT } from '../version.js';


function compile(source: string, output: string): Promise<void> {
  const compiler = process.env.CC ?? 'gcc';
  return new Promise((resolve, reject) => {
    execFile(compiler, ['-O2', '-Wall', '-o', output, source], { timeout: 60_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`cannot compile ${source} with ${compiler}: ${stderr.trim() || error.message} (install gcc and libc6-dev)`, { cause: error }));
      else resolve();
    });
  });
}

/** Path of the compiled helper `name` (source src/emulator/delayer/<name>.c), compiling it when needed. */
export async function ensureNativeTool(name: string): Promise<string> {
  const source = path.join(PACKAGE_ROOT, 'src', 'emulator', 'delayer', `${name}.c`);
  const text = await readFile(source);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
  const folder = path.join(PACKAGE_ROOT, 'dist', 'native');
  const binary = path.join(folder, `${name}-${hash}`);
  if (existsSync(binary)) return binary;
  await mkdir(folder, { recursive: true });
  const temporary = `${binary}.${process.pid}.tmp`;
  try {
    await compile(source, temporary);
    await rename(temporary, binary);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  return binary;
}
