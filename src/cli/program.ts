import { Command, CommanderError } from 'commander';
import { TOOL_VERSION } from '../version.js';
import { registerDemoCommand } from './demo-command.js';
import { registerMatrixCommand } from './matrix-command.js';
import { registerReportCommand } from './report-command.js';
import { registerScanCommand } from './scan-command.js';

/**
 * The commander program. Each command lives in its own file and registers itself here;
 * command files parse flags, call the library, render, write, and set process.exitCode.
 */
export function createProgram(): Command {
  const program = new Command('portmatrix')
    .description("Scan a host and diff its ports against the vendor's documented port matrix.")
    .version(TOOL_VERSION)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // commander's usage errors are already one line; exit code 2 is set by main.
      writeErr: (text) => process.stderr.write(text),
    });
  registerMatrixCommand(program);
  registerReportCommand(program);
  registerScanCommand(program);
  registerDemoCommand(program);
  return program;
}

export function isCommanderUsageError(error: unknown): error is CommanderError {
  return error instanceof CommanderError;
}
