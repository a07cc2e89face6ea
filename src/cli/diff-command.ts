/**
 * `portmatrix diff <old.json> <new.json>`: what changed between two saved runs (scan results or
 * fleet audits), computed as data (src/conformance/drift.ts) and rendered in one or several
 * formats. Exit codes as ndiff's: 0 no change, 1 changed, 2 bad input.
 */
import type { Command } from 'commander';
import { diffRuns } from '../conformance/drift.js';
import { DRIFT_FORMATS, DRIFT_RENDERERS } from '../report/drift/index.js';
import type { DriftFormat } from '../report/drift/index.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { planFormatOutputs, shouldColor } from '../output/reports.js';
import { addOutputOptions } from './conformance-options.js';
import { readRunFile } from './read-run.js';

const DRIFT_EXTENSIONS: Record<DriftFormat, string> = { table: '.txt', json: '.json', markdown: '.md', html: '.html' };

interface DiffFlags {
  format?: string[];
  output?: string;
}

export function registerDiffCommand(program: Command): Command {
  const command = program
    .command('diff')
    .description('what changed between two saved runs (scan results or audits): ports, findings, expired waivers; exit 0 same, 1 changed, 2 bad input')
    .argument('<old.json>', 'the earlier result (portmatrix scan/audit --format json)')
    .argument('<new.json>', 'the later result');
  addOutputOptions(command, DRIFT_FORMATS);
  command.addHelpText('after', '\nExit codes (as ndiff): 0 no change, 1 something changed, 2 bad input.');
  return command.action(async (oldFile: string, newFile: string, flags: DiffFlags) => {
    const outputs = await planFormatOutputs(flags.format, flags.output, { formats: DRIFT_FORMATS, extensions: DRIFT_EXTENSIONS });
    const [before, after] = await Promise.all([readRunFile(oldFile), readRunFile(newFile)]);
    const drift = diffRuns(before, after);
    for (const target of outputs) {
      const render = DRIFT_RENDERERS[target.format];
      if (target.path === undefined) process.stdout.write(render(drift, { color: shouldColor({ stdout: process.stdout, env: process.env }) }));
      else {
        await writeFileAtomic(target.path, render(drift));
        process.stderr.write(`wrote ${target.path}\n`);
      }
    }
    process.exitCode = drift.equal ? 0 : 1;
  });
}
