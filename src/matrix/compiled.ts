/**
 * Compiled built-in matrices (scripts/compile-matrices.ts): the validated matrix as JSON, named
 * with the SHA-256 of the YAML text it came from, so that loading a built-in needs neither yaml nor zod.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** A compiled matrix file: the validated matrix (the schema's output) of the text whose SHA-256 it names. */
export interface CompiledMatrix {
  sha256: string;
  data: unknown;
}

/** The compiled data of built-in matrix `id` when it was compiled from exactly `text`; undefined otherwise (stale, absent, unreadable). */
export async function readCompiledMatrixData(dir: string, id: string, text: string): Promise<unknown> {
  try {
    const compiled = JSON.parse(await readFile(path.join(dir, `${id}.json`), 'utf8')) as Partial<CompiledMatrix>;
    return compiled.sha256 === digestOf(text) ? compiled.data : undefined;
  } catch {
    return undefined;
  }
}

/** The SHA-256 of a matrix text, in hex: what names its compiled data. */
export function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

