/**
 * The drift JSON (portmatrix diff --format json) as a zod schema: the source of the published
 * schemas/drift.schema.json (scripts/write-result-schema.ts writes it; a test compares). A
 * compile-time check keeps it equal to the Drift type.
 */
import { z } from 'zod';
import type { Drift } from '../../conformance/drift.js';
import { driftBody } from '../result-schema.js';
import { DRIFT_SCHEMA_ID, DRIFT_SCHEMA_VERSION } from './view.js';

export const driftSchema = driftBody.extend({ schema: z.literal(DRIFT_SCHEMA_ID), schemaVersion: z.literal(DRIFT_SCHEMA_VERSION) });

type Parsed = z.infer<typeof driftBody>;
const modelFitsSchema = (drift: Drift): Parsed => drift;
const schemaFitsModel = (drift: Parsed): Drift => drift;
void modelFitsSchema;
void schemaFitsModel;

export function driftJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(driftSchema, { target: 'draft-2020-12', io: 'output' });
  return {
    $schema: schema.$schema,
    $id: `https://portmatrix.dev/schemas/drift-v${DRIFT_SCHEMA_VERSION}.schema.json`,
    title: `portmatrix diff, schemaVersion ${DRIFT_SCHEMA_VERSION}`,
    ...schema,
  };
}
