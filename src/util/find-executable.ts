/**
 * Finds a command the way a shell would (the directories of PATH, executable files only), so
 * that a tool's absence is known before it is run and said in one line instead of an ENOENT.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Full path of `command` in PATH, or undefined when no directory of PATH holds it as an executable file. */
export function findExecutable(command: string, searchPath: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
