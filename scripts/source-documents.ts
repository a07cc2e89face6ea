/**
 * The one place that knows where the vendor source documents are. They are proprietary and
 * never part of the repository (the built-in matrices carry the facts taken from them), so
 * the regenerate script and the tests that read whole documents find them here:
 * $PORTMATRIX_SOURCES when set, else ../shared/seeds beside the repository when it exists.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/version.js';

export const SOURCES_VARIABLE = 'PORTMATRIX_SOURCES';
const BESIDE_REPOSITORY = path.resolve(PACKAGE_ROOT, '../shared/seeds');

export type SourceDocuments = { dir: string } | { dir?: undefined; missing: string };

/** The folder of the source documents, or why there is none and what to set. */
export function locateSourceDocuments(): SourceDocuments {
  const configured = process.env[SOURCES_VARIABLE];
  if (configured) {
    const dir = path.resolve(configured);
    return existsSync(dir) ? { dir } : { missing: `the vendor source documents (${SOURCES_VARIABLE}=${configured}: no such folder)` };
  }
  if (existsSync(BESIDE_REPOSITORY)) return { dir: BESIDE_REPOSITORY };
  return { missing: `the vendor source documents (set ${SOURCES_VARIABLE} to their folder)` };
}

/** Path of one source document, by its file name; throws with what to set when the folder is unknown. */
export function sourceDocumentPath(fileName: string): string {
  const located = locateSourceDocuments();
  if (located.dir === undefined) throw new Error(`cannot read ${fileName}: ${located.missing}`);
  return path.join(located.dir, fileName);
}
