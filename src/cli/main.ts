/** Entry point of the executable (bin/portmatrix.js imports it). */
import { runCli } from './run-cli.js';

await runCli(process.argv);
