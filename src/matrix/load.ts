/**
 * Reading matrix files: the only place of the matrix layer that touches the file system.
 * Every problem in a file becomes one PortmatrixError whose message reads
 * "file:line:col: field.path: what is wrong", with the position taken from the YAML node.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PortmatrixError } from '../errors.js';
import { matrixSchema } from './model.js';
import type { Matrix } from './model.js';
import { formatProblem, locateZodIssues, parseYamlText } from '../util/yaml-location.js';
import { PACKAGE_ROOT } from '../version.js';
import { readInputText } from '../util/read-input.js';

export interface LoadedMatrix {
  matrix: Matrix;
  /** Absolute path of the file the matrix was read from. */
  path: string;
  builtin: boolean;
}

export const BUILTIN_MATRIX_DIR = path.join(PACKAGE_ROOT, 'matrices');
/** Where the build leaves each built-in matrix's YAML data as JSON (scripts/compile-matrices.ts). */
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
    // Parsing the YAML is most of a scan's start-up; the build did it already for this exact text.
    const compiled = matrixSchema.safeParse(await readCompiledMatrixData(COMPILED_MATRIX_DIR, ref, text));
    return { matrix: compiled.success ? compiled.data : parseMatrixText(text, shownAs), path: file, builtin: true };
  }
  const file = path.resolve(ref);
  return { matrix: parseMatrixText(await readMatrixFile(file, ref, builtinIds), ref), path: file, builtin: false };
}

/** A compiled matrix file: the YAML data of the text whose SHA-256 it names. */
export interface CompiledMatrix {
  sha256: string;
  data: unknown;
}

export function compileMatrixText(text: string, file: string): CompiledMatrix {
  // Validated as the loader would; the data kept is the YAML's, so the loader's schema runs on it again.
  parseMatrixText(text, file);
  const read = parseYamlText(text, file);
  if (!read.ok) throw new Error(`${file}: not YAML`);
  return { sha256: sha256(text), data: read.parsed.data };
}

/** The compiled data of built-in matrix `id` when it was compiled from exactly `text`; undefined otherwise (stale, absent, unreadable). */
export async function readCompiledMatrixData(dir: string, id: string, text: string): Promise<unknown> {
  try {
    const compiled = JSON.parse(await readFile(path.join(dir, `${id}.json`), 'utf8')) as Partial<CompiledMatrix>;
    return compiled.sha256 === sha256(text) ? compiled.data : undefined;
  } catch {
    return undefined;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
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

/** Parses and validates the text of a matrix file. `file` is only used in messages. Pure. */
export function parseMatrixText(text: string, file: string): Matrix {
  const read = parseYamlText(text, file);
  if (!read.ok) {
    throw new PortmatrixError('E_MATRIX_SYNTAX', formatProblem(read.problem, read.where), moreProblems(read.more));
  }
  const { doc, data, where } = read.parsed;
  if (data === null || data === undefined) {
    throw new PortmatrixError('E_MATRIX_INVALID', `${where(0)}: the file is empty`, {
      hint: 'a matrix is a YAML mapping that starts with "schemaVersion: 1"',
    });
  }
  const parsed = matrixSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  // Problems come in file order: the user fixes a file from the top.
  const [first, ...rest] = locateZodIssues(parsed.error.issues, data, doc, matrixSchema);
  if (!first) throw new Error('zod reported a failure without issues');
  throw new PortmatrixError('E_MATRIX_INVALID', formatProblem(first, where), moreProblems(rest.length));
}

function moreProblems(count: number): { hint?: string } {
  return count > 0 ? { hint: `${count} more problem${count === 1 ? '' : 's'} after this one` } : {};
}
