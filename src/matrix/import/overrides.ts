/**
 * The reviewed overrides file of a built-in matrix (matrices/overrides/<id>.yaml): product identity,
 * components and platforms, which table belongs to which component, which systems are the product's
 * own, and the judgement calls on defective rows, each with its reason.
 */
import { z } from 'zod';
import { componentSchema, conditionSchema, directionSchema, documentedStateSchema, transportSchema } from '../model.js';

const id = z.string().regex(/^[a-z0-9][a-z0-9.+-]*$/u, 'expected a lower-case id');

/** Fields of a row a reviewer may set; anything the document could not give, or gave wrongly. */
export const rowPatchSchema = z.strictObject({
  component: id.optional(),
  /** Every component the listener belongs to (a destination that names several systems). */
  components: z.array(id).min(1).optional(),
  direction: directionSchema.optional(),
  transports: z.array(transportSchema).min(1).optional(),
  ports: z.string().optional(),
  configurable: z.string().optional(),
  state: documentedStateSchema.optional(),
  optional: z.boolean().optional(),
  dynamic: z.boolean().optional(),
  protocol: z.string().optional(),
  peer: z.string().optional(),
  description: z.string().optional(),
  platforms: z.array(id).optional(),
  /** The condition the listener depends on; null: none, whatever the prose rules read. */
  condition: conditionSchema.nullable().optional(),
});

export const overridesSchema = z.strictObject({
  id,
  product: z.string().min(1),
  version: z.string().min(1),
  /** File name of the source document (scripts/source-documents.ts finds its folder). */
  seed: z.string().optional(),
  document: z
    .strictObject({ title: z.string().min(1), issue: z.string().optional(), date: z.string().optional() })
    .optional(),
  /** summary: descriptions are written by the importer from protocol and peer, never copied from the document. */
  descriptions: z.enum(['document', 'summary']).default('summary'),
  platforms: z.array(z.strictObject({ id, name: z.string().min(1) })).min(1),
  components: z.array(componentSchema).min(1),
  /** The product's own systems: a source/destination row whose destination is one of them is a listener. */
  self: z.array(z.string().min(1)).default([]),
  tables: z
    .array(
      z.strictObject({
        /** A case-insensitive substring of the table title. */
        match: z.string().min(1),
        component: id,
        self: z.array(z.string().min(1)).optional(),
        /** A listener row whose destination system names one of these belongs to that component. */
        systems: z.array(z.strictObject({ match: z.string().min(1), component: id })).optional(),
      }),
    )
    .default([]),
  /** System names of the whole document -> component, for destinations that name several systems (earlier entries win). */
  systems: z.array(z.strictObject({ match: z.string().min(1), component: id })).default([]),
  /** Rows whose text matches `match` (a case-insensitive regular expression) apply to these platforms only. */
  platformRules: z
    .array(z.strictObject({ match: z.string().min(1), platforms: z.array(id).min(1), note: z.string().min(1) }))
    .default([]),
  /** Document notes by number: the platforms the rows that cite them apply to. */
  noteMarkers: z
    .record(z.string(), z.strictObject({ platforms: z.array(id).min(1).optional(), note: z.string().min(1) }))
    .default({}),
  rows: z
    .array(
      z.strictObject({
        table: z.string().min(1),
        row: z.string().min(1),
        /** A guard: the port cell as the importer read it; the override fails when the document changed. */
        expectPorts: z.string().optional(),
        set: rowPatchSchema.default({}),
        reason: z.string().min(1),
        /** The row's own words a decision on a contradictory row rests on (checked against the document). */
        quote: z.string().min(1).optional(),
      }),
    )
    .default([]),
});

export type MatrixOverrides = z.infer<typeof overridesSchema>;
export type MatrixOverridesInput = z.input<typeof overridesSchema>;
export type RowPatch = z.infer<typeof rowPatchSchema>;
export type RowOverride = MatrixOverrides['rows'][number];
