/**
 * `portmatrix report <result.json> --format ... [--output]`: re-render a saved result without
 * scanning. With --policy, --strict or --fail-on the result is judged again (waivers change,
 * expire; scans need not be repeated) and the exit code is the new verdict.
 */
import { Option, type Command } from 'commander';
import { FAIL_ON_LEVELS, type FailOn } from '../conformance/model.js';
import { verdictExitCode } from '../conformance/diff.js';
import { checkPolicyRows } from '../conformance/policy.js';
import { rejudgeResult } from '../conformance/rejudge.js';
import { PortmatrixError } from '../errors.js';
import { parseResultText } from '../report/parse-result.js';
import type { ScanResult } from '../result/model.js';
import { readResult } from './read-result.js';
import { toTerminalText } from '../util/untrusted-text.js';
import { planOutputs, writeReports } from '../output/reports.js';
import { readPolicyFile } from '../run/conformance-check.js';
import { addOutputOptions } from './conformance-options.js';

interface ReportFlags {
  format?: string[];
  output?: string;
  policy?: string;
  strict?: boolean;
  failOn?: FailOn;
}

export function registerReportCommand(program: Command): Command {
  const command = program
    .command('report')
    .description('re-render a saved result in other formats without scanning; with --policy/--strict/--fail-on, judge it again')
    .argument('<result.json>', 'a result written by portmatrix scan --format json --output FILE')
    .option('--policy <file>', 'judge the saved observations again under this policy (severities, waivers, conditions)')
    .option('--strict', 'judge again with every deviation from the documented default an error')
    .addOption(new Option('--fail-on <level>', 'judge again and exit 1 at findings of this severity or above').choices(FAIL_ON_LEVELS));
  addOutputOptions(command);
  command.addHelpText('after', '\nExit codes: 0 re-rendered (or conformant when judged again), 1 findings at or above --fail-on when judged again, 2 bad input.');
  return command.action(async (file: string, flags: ReportFlags) => {
    const outputs = await planOutputs(flags.format, flags.output);
    const saved = parseResultText(await readResult(file), file);
    const rejudging = flags.policy !== undefined || flags.strict === true || flags.failOn !== undefined;
    const result = rejudging ? await rejudge(saved, flags, file) : saved;
    const written = await writeReports(outputs, result, { stdout: process.stdout, env: process.env });
    for (const path of written) process.stderr.write(`wrote ${toTerminalText(path)}\n`);
    if (rejudging && result.conformance) process.exitCode = verdictExitCode(result);
  });
}

async function rejudge(saved: ScanResult, flags: ReportFlags, file: string): Promise<ScanResult> {
  if (!saved.conformance) {
    throw new PortmatrixError('E_USAGE', `${file} has no conformance check to judge again (it was scanned without --matrix)`, {
      hint: 'judge a result of "portmatrix scan --matrix ..."',
    });
  }
  const policy = flags.policy === undefined ? undefined : await readPolicyFile(flags.policy);
  if (policy) checkPolicyRows(policy, saved.conformance.expectations);
  return rejudgeResult(saved, {
    ...(policy ? { policy } : {}),
    strict: flags.strict ?? false,
    failOn: flags.failOn ?? saved.conformance.failOn,
    now: new Date(),
  });
}
