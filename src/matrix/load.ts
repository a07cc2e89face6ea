/**
 * Reading matrix files: the only place of the matrix layer that touches the file system.
 * A compiled built-in is taken as the build validated it; any other text goes through parse.ts.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PortmatrixError } from '../errors.js';
import { readCompiledMatrixData } from './compiled.js';
import type { Matrix } from './model.js';
import { PACKAGE_ROOT } from '../version.js';
import { readInputText } from '../util/read-input.js';

export interface LoadedMatrix {
  matrix: Matrix;
  /** Absolute path of the file the matrix was read from. */
  path: string;
  builtin: boolean;
}

export const BUILTIN_MATRIX_DIR = path.join(PACKAGE_ROOT, 'matrices');
/** Where the build leaves each built-in matrix, validated, as JSON (scripts/compile-matrices.ts). */
export const COMPILED_MATRIX_DIR = path.join(PACKAGE_ROOT, 'dist', 'matrices');
const MATRIX_EXTENSION = '.yaml';

/** Ids of the built-in matrices (matrices/<id>.yaml), sorted. */
export async function listBuiltinMatrixIds(): Promise<string[]> {
  const names = await readdir(BUILTIN_MATRIX_DIR).catch(() => [] as string[]);
  return names
    .filter((name) => name.endsWith(MATRIX_EXTENSION))
    .map((name) => name.slice(0, -MATRIX_EXTENSION.length))
    .sort();
}

export async function listBuiltinMatrices(): Promise<LoadedMatrix[]> {
  const ids = await listBuiltinMatrixIds();
  return Promise.all(ids.map((id) => loadMatrix(id)));
}

function looksLikePath(ref: string): boolean {
  return ref.includes('/') || ref.includes(path.sep) || /\.ya?ml$/i.test(ref);
}

/** Loads a built-in matrix by id (`ip-office-9.1`) or a matrix file by path. */
export async function loadMatrix(ref: string): Promise<LoadedMatrix> {
  const builtinIds = await listBuiltinMatrixIds();
  if (!looksLikePath(ref) && builtinIds.includes(ref)) {
    const file = path.join(BUILTIN_MATRIX_DIR, `${ref}${MATRIX_EXTENSION}`);
    // Built-in matrices are named by their place in the package, wherever it is installed.
    const shownAs = path.relative(PACKAGE_ROOT, file);
    const text = await readMatrixFile(file, ref, builtinIds);
    // Parsing and validating are most of a scan's start-up (yaml and zod alone take ~0.13 s to load);
    // the build did both already for this exact text.
    const compiled = (await readCompiledMatrixData(COMPILED_MATRIX_DIR, ref, text)) as Matrix | undefined;
    return { matrix: compiled ?? (await parseMatrix(text, shownAs)), path: file, builtin: true };
  }
  const file = path.resolve(ref);
  return { matrix: await parseMatrix(await readMatrixFile(file, ref, builtinIds), ref), path: file, builtin: false };
}

/** The parser (yaml, zod), loaded only for a matrix the build did not compile. */
async function parseMatrix(text: string, file: string): Promise<Matrix> {
  return (await import('./parse.js')).parseMatrixText(text, file);
}

async function readMatrixFile(file: string, ref: string, builtinIds: string[]): Promise<string> {
  try {
    return await readInputText(file, { label: `matrix ${JSON.stringify(ref)}`, code: 'E_MATRIX_NOT_FOUND', hint: 'name a .yaml matrix file' });
  } catch (error) {
    const code = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT') {
      const known = builtinIds.length > 0 ? builtinIds.join(', ') : 'none installed';
      throw new PortmatrixError('E_MATRIX_NOT_FOUND', `matrix "${ref}" not found: no such file and no built-in matrix of that id`, {
        hint: `built-in matrices: ${known}; see "portmatrix matrix list"`,
        cause: error,
      });
    }
    // A directory, a FIFO, a device, a file beyond the size bound: readInputText's own message.
    throw error;
  }
}
