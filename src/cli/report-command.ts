/** `portmatrix report <result.json> --format ... [--output]`: re-render a saved result without scanning. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PortmatrixError } from '../errors.js';
import { parseResultText } from '../report/parse-result.js';
import { addOutputOptions, planOutputs, writeReports } from './conformance-options.js';

interface ReportFlags {
  format?: string[];
  output?: string;
}

export function registerReportCommand(program: Command): Command {
  const command = program
    .command('report')
    .description('re-render a saved result (portmatrix scan --format json) in other formats, without scanning')
    .argument('<result.json>', 'a result written by portmatrix scan --format json --output FILE');
  addOutputOptions(command);
  return command.action(async (file: string, flags: ReportFlags) => {
    const outputs = await planOutputs(flags.format, flags.output);
    const result = parseResultText(await readResult(file), file);
    const written = await writeReports(outputs, result, { stdout: process.stdout, env: process.env });
    for (const path of written) process.stderr.write(`wrote ${path}\n`);
  });
}

async function readResult(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new PortmatrixError('E_RESULT', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: 'pass a result written by "portmatrix scan --format json --output FILE"',
    });
  }
}
