/** Entry point of the executable (bin/portmatrix.js imports it). */
import { runCli } from './run-cli.js';

// A reader that goes away (`portmatrix matrix show x --json | head -1`) is not an error of ours:
// the rest of the output is dropped quietly and the exit code stays the verdict's.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

await runCli(process.argv);
