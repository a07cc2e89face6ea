/**
 * The conformance stage of a run: the matrix, the selection and the policy, loaded and checked
 * before any packet is sent; afterwards, the findings added to the finished result.
 */
import { judgeHosts } from '../conformance/diff.js';
import type { FailOn } from '../conformance/model.js';
import { checkPolicyRows, exitCodeFor, type Policy } from '../conformance/policy.js';
import { DEFAULT_FAIL_ON } from '../defaults.js';
import type { Expectation, Selection } from '../matrix/expectation.js';
import { loadMatrix, type LoadedMatrix } from '../matrix/load.js';
import { selectExpectations } from '../matrix/select.js';
import type { ScanResult } from '../result/model.js';
import { readInputText } from '../util/read-input.js';

/** What to check a host against. Files are named by path; a caller that has them loaded passes the objects. */
export interface ConformanceRequest {
  /** A built-in matrix id, a YAML file, or a loaded matrix. */
  matrix: string | LoadedMatrix;
  /** Components running on the host (default: the matrix defaults). */
  components?: readonly string[];
  /** Platform of the host (default: the first one the components share). */
  platform?: string;
  /** A YAML policy file or a parsed policy: severity overrides, waivers, conditions that hold. */
  policy?: string | Policy;
  /** Conditions that hold on the host (--condition): kinds, row ids or "*", added to the policy's. */
  conditions?: readonly string[];
  /** Every deviation from the documented default is an error. */
  strict?: boolean;
  /** Lowest severity that makes the exit code 1. */
  failOn?: FailOn;
}

export interface ConformanceCheck {
  loaded: LoadedMatrix;
  selection: Selection;
  expectations: Expectation[];
  policy?: Policy;
  strict: boolean;
  failOn: FailOn;
}

/** Loads and checks matrix, selection and policy. Throws PortmatrixError (exit 2) for bad input. */
export async function prepareConformance(request: ConformanceRequest): Promise<ConformanceCheck> {
  const loaded = typeof request.matrix === 'string' ? await loadMatrix(request.matrix) : request.matrix;
  const { selection, expectations } = selectExpectations(loaded.matrix, {
    ...(request.components ? { components: [...request.components] } : {}),
    ...(request.platform ? { platform: request.platform } : {}),
  });
  const filePolicy = typeof request.policy === 'string' ? await readPolicyFile(request.policy) : request.policy;
  const policy = withConditions(filePolicy, request.conditions ?? []);
  if (policy) checkPolicyRows(policy, expectations, loaded.matrix.rows);
  return { loaded, selection, expectations, ...(policy ? { policy } : {}), strict: request.strict ?? false, failOn: request.failOn ?? DEFAULT_FAIL_ON };
}

/** --condition adds to the policy's conditions: both say what holds on this host. */
function withConditions(policy: Policy | undefined, declared: readonly string[]): Policy | undefined {
  if (declared.length === 0) return policy;
  return {
    ...(policy ?? { severities: {}, waivers: [] }),
    conditions: [...(policy?.conditions ?? []), ...declared],
    conditionsAt: [...(policy?.conditionsAt ?? (policy?.conditions ?? []).map(() => policy?.source ?? 'policy')), ...declared.map(() => '--condition')],
  };
}

export async function readPolicyFile(file: string): Promise<Policy> {
  const text = await readInputText(file, { label: `policy file ${file}`, code: 'E_POLICY', hint: 'check the --policy path' });
  // The file's parser (yaml, zod) loads only when there is a policy file.
  return (await import('../conformance/policy-file.js')).parsePolicyText(text, file);
}

/** Adds the conformance section (findings at this moment's policy) to a finished scan result. */
export function attachConformance(check: ConformanceCheck, result: ScanResult, now: Date = new Date()): ScanResult {
  const { findings, hostFindings } = judgeHosts({
    expectations: check.expectations,
    hosts: result.hosts,
    ...(check.policy ? { policy: check.policy } : {}),
    strict: check.strict,
    now,
    ...(result.checks ? { services: result.checks.services } : {}),
  });
  const { matrix } = check.loaded;
  return {
    ...result,
    conformance: {
      matrix: { id: matrix.id, product: matrix.product, version: matrix.version, document: matrix.document.title },
      selection: check.selection,
      failOn: check.failOn,
      ...(check.policy && check.policy.conditions.length > 0 ? { conditions: check.policy.conditions } : {}),
      ...(matrix.notes.length > 0 ? { notes: matrix.notes } : {}),
      expectations: check.expectations,
      findings,
      hostFindings,
    },
  };
}

/** 0 or 1 from the findings at the check's --fail-on. */
export function conformanceExitCode(result: ScanResult): 0 | 1 {
  return result.conformance ? exitCodeFor(result.conformance.findings, result.conformance.failOn) : 0;
}
