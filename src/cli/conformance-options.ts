/**
 * The conformance and output flags of `portmatrix scan` (--matrix/--component/--platform/
 * --policy/--strict/--fail-on/--format/--output), shared with `report` for the output half,
 * and their translation into the run's typed conformance request.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { FAIL_ON_LEVELS } from '../conformance/model.js';
import type { FailOn } from '../conformance/model.js';
import { DEFAULT_FAIL_ON } from '../defaults.js';
import { PortmatrixError } from '../errors.js';
import { REPORT_FORMATS } from '../report/formats.js';
import type { ConformanceRequest } from '../run/conformance-check.js';

export interface ConformanceFlags {
  matrix?: string;
  component?: string[];
  platform?: string;
  policy?: string;
  condition?: string[];
  strict?: boolean;
  failOn?: FailOn;
  format?: string[];
  output?: string;
}

/** Repeatable and comma-separated: `--format json --format html,junit`. An empty item is a mistake, not "the default". */
function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((item) => item.trim())];
}

/** --format and --output, shared by scan, report and diff. */
export function addOutputOptions(command: Command, formats: readonly string[] = REPORT_FORMATS): Command {
  return command
    .option('--format <formats>', `report formats, repeatable or comma-separated: ${formats.join(', ')} (default: table)`, collectList)
    .option('--output <path>', 'write the report to this file; with several formats, the base name (extensions are added)');
}

export function addConformanceOptions(command: Command): Command {
  command
    .option('--matrix <id|file>', 'check the host against this port matrix (a built-in id or a YAML file)')
    .option('--component <ids>', 'components running on the host, repeatable or comma-separated (default: the matrix defaults)', collectList)
    .option('--platform <id>', 'platform of the host (default: the first one the components share)')
    .option('--policy <file>', 'YAML policy: severity overrides, waivers, conditions that hold')
    .option(
      '--condition <names>',
      'conditions that hold on the host, repeatable or comma-separated: a kind (ha, feature, role, legacy, ...), a row id, or *',
      collectList,
    )
    .option('--strict', 'every deviation from the documented default is an error (conditions are ignored)')
    .addOption(new Option('--fail-on <level>', 'lowest severity that makes the exit code 1').choices(FAIL_ON_LEVELS).default(DEFAULT_FAIL_ON));
  return addOutputOptions(command);
}

/** The flags as the run's conformance request; undefined without --matrix. Throws PortmatrixError (exit 2) for a flag that needs --matrix. */
export function toConformanceRequest(flags: ConformanceFlags): ConformanceRequest | undefined {
  if (flags.matrix === undefined) {
    const needsMatrix = (['component', 'platform', 'policy', 'condition', 'strict'] as const).find((flag) => flags[flag] !== undefined && flags[flag] !== false);
    if (needsMatrix) {
      throw new PortmatrixError('E_USAGE', `--${needsMatrix} needs --matrix`, { hint: 'name the port matrix to check against, e.g. --matrix ip-office-9.1' });
    }
    return undefined;
  }
  return {
    matrix: flags.matrix,
    ...(flags.component ? { components: flags.component } : {}),
    ...(flags.platform ? { platform: flags.platform } : {}),
    ...(flags.policy === undefined ? {} : { policy: flags.policy }),
    ...(flags.condition ? { conditions: flags.condition } : {}),
    strict: flags.strict ?? false,
    failOn: flags.failOn ?? DEFAULT_FAIL_ON,
  };
}
