/**
 * Parsing and validating a matrix file's text (yaml, zod): loaded only when a matrix is not a
 * compiled built-in, and by the build that compiles them. Every problem becomes one
 * PortmatrixError "file:line:col: field.path: what is wrong", positioned at the YAML node.
 */
import { PortmatrixError } from '../errors.js';
import { formatProblem, locateZodIssues, parseYamlText } from '../util/yaml-location.js';
import { type CompiledMatrix, digestOf } from './compiled.js';
import { matrixSchema } from './model.js';
import type { Matrix } from './model.js';

export function compileMatrixText(text: string, file: string): CompiledMatrix {
  // The schema's output (defaults filled in): the loader takes it as it is, without yaml or zod.
  return { sha256: digestOf(text), data: parseMatrixText(text, file) };
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
