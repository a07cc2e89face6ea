import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above this module that holds portmatrix's package.json (works from src/ under vitest and from dist/src/). */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'portmatrix') return dir;
    } catch {
      // not here: keep walking up
    }
    dir = dirname(dir);
  }
  throw new Error('portmatrix package.json not found above ' + fileURLToPath(import.meta.url));
}

export const PACKAGE_ROOT = findPackageRoot();
export const TOOL_NAME = 'portmatrix';
export const TOOL_VERSION: string = (
  JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
