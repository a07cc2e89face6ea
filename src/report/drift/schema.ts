/**
 * The drift JSON (portmatrix diff --format json) as a zod schema: the source of the published
 * schemas/drift.schema.json (scripts/write-result-schema.ts writes it; a test compares). A
 * compile-time check keeps it equal to the Drift type.
 */
import { z } from 'zod';
import type { Drift } from '../../conformance/drift.js';
import { findingSchema, port, portState, tlsVersion, transport } from '../result-schema.js';
import { DRIFT_SCHEMA_ID, DRIFT_SCHEMA_VERSION } from './view.js';

const runSchema = z.object({ startedAt: z.string(), matrices: z.array(z.string()) });

const serviceSeenSchema = z.object({
  check: z.string(),
  outcome: z.enum(['answered', 'mismatch', 'no-answer']),
  protocolSeen: z.string().optional(),
  tlsVersions: z.array(tlsVersion).optional(),
  certificate: z.object({ subject: z.string(), issuer: z.string(), notAfter: z.string(), fingerprint256: z.string() }).optional(),
});

const hostDriftSchema = z.object({
  address: z.string().describe("the host's address: runs are matched by it"),
  name: z.string().optional().describe('the host name the address was resolved from'),
  status: z.enum(['added', 'removed', 'changed', 'unchanged']),
  hostState: z
    .object({ before: z.enum(['up', 'down', 'unreachable']), after: z.enum(['up', 'down', 'unreachable']) })
    .optional()
    .describe('when the host was not up in either run: its ports were not compared'),
  ports: z.array(z.object({ transport, port, before: portState.nullable().describe('null: not scanned in that run'), after: portState.nullable() })),
  appeared: z.array(findingSchema),
  resolved: z.array(findingSchema),
  changed: z.array(z.object({ before: findingSchema, after: findingSchema, changes: z.array(z.enum(['severity', 'observed', 'waiver-expired'])) })),
  services: z
    .array(z.object({ port, changes: z.array(z.enum(['certificate', 'tls-versions', 'protocol'])), before: serviceSeenSchema, after: serviceSeenSchema }))
    .describe('checked ports whose certificate, TLS versions or answering protocol changed'),
});

const driftBody = z.object({ before: runSchema, after: runSchema, equal: z.boolean(), hosts: z.array(hostDriftSchema) });

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
