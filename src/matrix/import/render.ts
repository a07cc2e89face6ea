/** A matrix as the YAML text of a matrix file. Pure. */
import { Document, isScalar, visit } from 'yaml';
import type { Matrix } from '../model.js';

/** Lists of scalars (transports, platforms) stay on one line; everything else is block style. */
export function renderMatrixYaml(matrix: Matrix, headerComment?: string): string {
  const document = new Document(matrix);
  visit(document, {
    Seq(_key, node) {
      if (node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  if (headerComment) document.commentBefore = headerComment;
  return document.toString({ lineWidth: 0 });
}

