/**
 * The policy file: YAML checked against a schema, every problem one
 * E_POLICY "file:line:col: field.path: what is wrong". Its own module so that a scan without
 * --policy loads neither yaml nor zod.
 */
import { z } from 'zod';
import { PortmatrixError } from '../errors.js';
import { parsePortSpec } from '../model/port-range.js';
import { describeValue, formatProblem, locateZodIssues, offsetOfPath, parseYamlText } from '../util/yaml-location.js';
import { FINDING_KINDS } from './model.js';
import type { FindingKind } from './model.js';
import { type Policy, type PolicyKind, serviceThresholds } from './policy.js';

/** "1.2", 1.2 or "TLSv1.2"; TLS 1.0 is "TLSv1" in OpenSSL's words. */
const tlsFloorSchema = z
  .union([z.string(), z.number()], { error: 'expected a TLS version: 1.0, 1.1, 1.2 or 1.3' })
  .transform((value, ctx) => {
    const text = String(value).replace(/^TLSv?/i, '');
    const version = ({ '1': 'TLSv1', '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' } as const)[text as '1'];
    if (version === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a TLS version: 1.0, 1.1, 1.2 or 1.3, got ${describeValue(value)}` });
      return z.NEVER;
    }
    return version;
  });

const findingKindSchema = z.enum(FINDING_KINDS as [FindingKind, ...FindingKind[]]);
/** What `severities` may set: every finding kind, and a host that was not up (src/conformance/model.ts HostFinding). */
const POLICY_KINDS: readonly PolicyKind[] = [...FINDING_KINDS, 'host-not-up'];
const severityKindSchema = z.enum(POLICY_KINDS as [PolicyKind, ...PolicyKind[]]);
const severitySchema = z.enum(['error', 'warning', 'notice', 'off']);

const isoDate = z
  .string({ error: (issue) => `expected a date YYYY-MM-DD, got ${describeValue(issue.input)}` })
  .refine((value) => isValidDate(value), { error: (issue) => `expected a real date YYYY-MM-DD, got ${describeValue(issue.input)}` });

const portsSchema = z
  .union([z.number(), z.string()], { error: 'expected a port or port list ("8080", "5060-5061")' })
  .transform((value) => String(value))
  .superRefine((value, ctx) => {
    const parsed = parsePortSpec(value);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
  });

const waiverSchema = z.strictObject({
  port: portsSchema,
  transport: z.enum(['tcp', 'udp']).optional(),
  host: z.string().min(1).optional(),
  kind: findingKindSchema.optional(),
  reason: z.string().trim().min(1, 'a waiver needs a reason'),
  ticket: z.union([z.string(), z.number()]).transform((value) => String(value)).optional(),
  expires: isoDate,
});

export const policyFileSchema = z.strictObject({
  severities: z
    .partialRecord(severityKindSchema, severitySchema)
    .optional()
    .superRefine((severities, ctx) => {
      if (severities?.conformant !== undefined && severities.conformant !== 'off') {
        ctx.addIssue({ code: 'custom', path: ['conformant'], message: 'conformant findings are never deviations; their severity is always off' });
      }
    }),
  waivers: z.array(waiverSchema).optional(),
  conditions: z.array(z.string().min(1)).optional(),
  checks: z
    .strictObject({
      tlsFloor: tlsFloorSchema.optional(),
      certificateExpiryDays: z.int({ error: 'expected a whole number of days' }).min(0).max(3650).optional(),
    })
    .optional(),
});

function isValidDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Parses and checks a policy file's text; `file` only appears in messages. Throws E_POLICY "file:line:col: ...". */
export function parsePolicyText(text: string, file: string): Policy {
  const parsed = parseYamlText(text, file);
  if (!parsed.ok) {
    throw new PortmatrixError('E_POLICY', formatProblem(parsed.problem, parsed.where), parsed.more > 0 ? { hint: `${parsed.more} more problems after this one` } : {});
  }
  const { data, doc, where } = parsed.parsed;
  // An empty file is an empty policy: the defaults.
  const result = policyFileSchema.safeParse(data ?? {});
  if (!result.success) {
    const problems = locateZodIssues(result.error.issues, data, doc, policyFileSchema).map((problem) =>
      // A severities key is a finding kind: say so rather than "unknown field".
      problem.path[0] === 'severities' && problem.path.length === 2 && problem.message.startsWith('unknown field')
        ? { ...problem, message: `unknown finding kind "${String(problem.path[1])}" (kinds: ${POLICY_KINDS.join(', ')})` }
        : problem,
    );
    const first = problems[0];
    if (!first) throw new Error('zod reported a failure without issues');
    const more = problems.length - 1;
    throw new PortmatrixError('E_POLICY', formatProblem(first, where), more > 0 ? { hint: `${more} more problem${more === 1 ? '' : 's'} after this one` } : {});
  }
  const file_ = result.data;
  return {
    source: file,
    severities: file_.severities ?? {},
    waivers: (file_.waivers ?? []).map(({ port, ...rest }) => ({ ports: port, ...rest })),
    conditions: file_.conditions ?? [],
    conditionsAt: (file_.conditions ?? []).map((_, index) => where(offsetOfPath(doc, ['conditions', index]))),
    ...(file_.checks ? { checks: { ...serviceThresholds(undefined), ...stripUndefined(file_.checks) } } : {}),
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
