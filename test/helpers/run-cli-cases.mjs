/**
 * Runs many CLI invocations in one Node process (the bad-input corpus: starting Node ~100
 * times cost minutes on a loaded machine). Reads a JSON list of { args, cwd } from the file
 * named on the command line, runs each through the built runCli in its own working folder
 * with stdout and stderr captured, and prints a JSON list of { code, stdout, stderr }.
 * Plain JavaScript over dist/, so it runs on every supported Node without a TypeScript loader.
 */
import { readFileSync } from 'node:fs';
import { runCli } from '../../dist/src/cli/run-cli.js';

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const realStdout = process.stdout.write.bind(process.stdout);
const realStderr = process.stderr.write.bind(process.stderr);
const outcomes = [];
for (const { args, cwd } of cases) {
  let stdout = '';
  let stderr = '';
  process.stdout.write = (chunk) => ((stdout += String(chunk)), true);
  process.stderr.write = (chunk) => ((stderr += String(chunk)), true);
  process.chdir(cwd);
  process.exitCode = undefined;
  try {
    await runCli(['node', 'portmatrix', ...args]);
  } catch (error) {
    stderr += `harness: runCli threw: ${error?.stack ?? error}\n`;
  } finally {
    process.stdout.write = realStdout;
    process.stderr.write = realStderr;
  }
  outcomes.push({ code: process.exitCode ?? 0, stdout, stderr });
}
process.exitCode = 0;
realStdout(`${JSON.stringify(outcomes)}\n`);
