/**
 * The matrix format: one schema, used for runtime validation and exported as
 * matrices/schema.json (scripts/write-schema.ts), so the two cannot disagree.
 */
import { z } from 'zod';
import { parsePortSpec } from '../model/port-range.js';
import { CONDITION_KINDS } from './condition-kinds.js';

export { CONDITION_KINDS };

/** One port 1-65535 without leading zeros; lets schema.json (editors) check port specs too. */
const PORT_PATTERN = '(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d{2}|6[0-4]\\d{3}|[1-5]\\d{4}|[1-9]\\d{0,3})';
const CANONICAL_PORT_SPEC = new RegExp(`^${PORT_PATTERN}(?:-${PORT_PATTERN})?(?:,${PORT_PATTERN}(?:-${PORT_PATTERN})?)*$`);

// The parser's message comes first (it says which port is wrong and why); the pattern
// additionally requires the canonical form (no spaces, no leading zeros) and is what
// schema.json carries. Reversed ranges are only caught at runtime.
const portSpec = z
  .string()
  .superRefine((value, ctx) => {
    const parsed = parsePortSpec(value);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
  })
  .regex(CANONICAL_PORT_SPEC, 'write ports canonically: "22", "5060-5061", "5488,5489" (no spaces)');

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.+-]*$/, 'expected a lower-case id (letters, digits, ".", "+", "-")');

export const directionSchema = z.enum(['ingress', 'egress', 'intra-device']);
export const transportSchema = z.enum(['tcp', 'udp']);
export const fixedStateSchema = z.enum(['open', 'closed', 'filtered', 'n/a']);
/** A documented default state: one of the fixed words, or a condition kept verbatim ("Open if HA"). */
export const documentedStateSchema = z.union([
  fixedStateSchema,
  z.strictObject({
    conditional: z.string().min(1).describe('the document text, verbatim'),
    /** How the condition reads when it holds; used when the user says it holds. */
    whenMet: fixedStateSchema.optional(),
  }),
], {
  error: (issue) =>
    typeof issue.input === 'string'
      ? `unknown state "${issue.input}": expected open, closed, filtered, n/a, or { conditional: "document text" }`
      : 'expected a state (open, closed, filtered, n/a) or { conditional: "document text" }',
});

/** A condition kind (condition-kinds.ts) and the document's words it was read from. */
export const conditionKindSchema = z.enum(CONDITION_KINDS);
export const conditionSchema = z.strictObject({
  kind: conditionKindSchema.describe(
    'ha: high-availability pairs only; localhost-only: open for local connections only; feature / role: a feature or server role the site may not run; ' +
      'legacy: an old port the document recommends closing; client-side: the port is on the client PC; multicast: a multicast group sent to clients',
  ),
  text: z.string().min(1).describe("the document's words the condition was read from"),
});

/** A note of the document, outside any row, that changes what a scan should expect ("by default all ports are open"). */
export const documentNoteSchema = z.strictObject({
  kind: z.enum(['firewall', 'legacy', 'scope']).describe('firewall: depends on the host firewall; legacy: old ports still in use; scope: what the tables leave out'),
  text: z.string().min(1).describe("the document's words"),
  line: z.number().int().positive().optional().describe('line in the source export'),
});

export const rowRefSchema = z.strictObject({
  table: z.string().min(1).describe('table title or section heading as in the document'),
  row: z.string().min(1).describe('row number, or the position in an unnumbered table'),
  line: z.number().int().positive().optional().describe('line of the row in the source export'),
});

export const rowSchema = z.strictObject({
  id: id.describe('unique within the matrix'),
  component: id.describe('id of a component of this matrix'),
  direction: directionSchema,
  transports: z.array(transportSchema).min(1),
  ports: portSpec.describe('default port(s): "22", "5060-5061", "5488,5489"'),
  configurable: portSpec.optional().describe('where the port may be moved to, when documented'),
  state: documentedStateSchema,
  optional: z.boolean().describe('"Optionally enabled / disabled": the customer may change the default state'),
  dynamic: z.boolean().default(false).describe('a media or ephemeral range: nothing listens there at rest'),
  protocol: z.string().describe('network / application protocol text as documented'),
  peer: z.string().default('').describe('external device, or source system for source/destination tables'),
  description: z.string().default(''),
  platforms: z.array(id).optional().describe('platforms the row applies to; absent: all of its component'),
  condition: conditionSchema.optional().describe('the listener is expected only when this holds (policy `conditions:` or --condition)'),
  ref: rowRefSchema,
  notes: z.array(z.string()).default([]),
});

export const componentSchema = z.strictObject({
  id,
  name: z.string().min(1),
  platforms: z.array(id).min(1),
  /** Selected when the user names no component. */
  default: z.boolean().default(false),
});

export const historyEntrySchema = z.strictObject({
  change: z.enum(['added', 'changed', 'removed']),
  ports: z.string().describe('as written in the change table'),
  newPorts: z.string().optional().describe('where a changed port moved to, when the table says'),
  protocol: z.string().default(''),
  description: z.string().default(''),
  ref: rowRefSchema,
  notes: z.array(z.string()).optional(),
});

export const matrixSchema = z
  .strictObject({
    schemaVersion: z.literal(1),
    id,
    product: z.string().min(1),
    version: z.string().min(1),
    document: z.strictObject({
      title: z.string().min(1),
      issue: z.string().optional(),
      date: z.string().optional(),
      source: z.string().optional().describe('file the matrix was imported from'),
    }),
    platforms: z.array(z.strictObject({ id, name: z.string().min(1) })).min(1),
    components: z.array(componentSchema).min(1),
    notes: z.array(documentNoteSchema).default([]).describe('document-level notes that change what a scan should expect'),
    rows: z.array(rowSchema),
    history: z.array(historyEntrySchema).default([]),
  })
  .superRefine((matrix, ctx) => {
    const platformIds = new Set(matrix.platforms.map((platform) => platform.id));
    const componentIds = new Set<string>();
    matrix.components.forEach((component, index) => {
      if (componentIds.has(component.id)) {
        ctx.addIssue({ code: 'custom', path: ['components', index, 'id'], message: `duplicate component id "${component.id}"` });
      }
      componentIds.add(component.id);
      component.platforms.forEach((platform, p) => {
        if (!platformIds.has(platform)) {
          ctx.addIssue({ code: 'custom', path: ['components', index, 'platforms', p], message: `unknown platform "${platform}"` });
        }
      });
    });
    const rowIds = new Set<string>();
    matrix.rows.forEach((row, index) => {
      if (rowIds.has(row.id)) ctx.addIssue({ code: 'custom', path: ['rows', index, 'id'], message: `duplicate row id "${row.id}"` });
      rowIds.add(row.id);
      if (!componentIds.has(row.component)) {
        ctx.addIssue({
          code: 'custom',
          path: ['rows', index, 'component'],
          message: `unknown component "${row.component}" (known: ${[...componentIds].join(', ')})`,
        });
      }
      row.platforms?.forEach((platform, p) => {
        if (!platformIds.has(platform)) {
          ctx.addIssue({ code: 'custom', path: ['rows', index, 'platforms', p], message: `unknown platform "${platform}"` });
        }
      });
    });
  });

export type Direction = z.infer<typeof directionSchema>;
export type FixedState = z.infer<typeof fixedStateSchema>;
export type ConditionKind = z.infer<typeof conditionKindSchema>;
export type Condition = z.infer<typeof conditionSchema>;
export type DocumentNote = z.infer<typeof documentNoteSchema>;
export type DocumentedState = z.infer<typeof documentedStateSchema>;
export type RowRef = z.infer<typeof rowRefSchema>;
export type MatrixRow = z.infer<typeof rowSchema>;
export type Component = z.infer<typeof componentSchema>;
export type HistoryEntry = z.infer<typeof historyEntrySchema>;
export type Matrix = z.infer<typeof matrixSchema>;
/** A matrix as written in a file, before defaults are filled in. */
export type MatrixInput = z.input<typeof matrixSchema>;

/**
 * The JSON Schema of a matrix file, generated from matrixSchema (written to matrices/schema.json
 * by scripts/write-schema.ts). It describes the file as written ("input"): fields with defaults
 * are optional. Cross-field rules (unique ids, known components, ordered ranges) are runtime only.
 */
export function matrixJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(matrixSchema, { io: 'input', target: 'draft-2020-12' });
  return {
    $schema: schema.$schema,
    title: 'portmatrix port matrix',
    ...schema,
  };
}
