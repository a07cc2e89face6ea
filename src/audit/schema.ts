/**
 * The audit JSON as a zod schema: the one source for reading audits back (merge, diff) and for
 * schemas/audit.schema.json. Compile-time checks keep it equal to AuditResult.
 */
import { z } from 'zod';
import { parseSavedDocument } from '../report/parse-result.js';
import { scanResultSchema } from '../report/result-schema.js';
import { AUDIT_SCHEMA_ID, AUDIT_SCHEMA_VERSION, type AuditResult } from './model.js';

const shard = z.object({ index: z.int().min(1), count: z.int().min(1) });

export const auditResultSchema = z.object({
  schema: z.literal(AUDIT_SCHEMA_ID),
  schemaVersion: z.literal(AUDIT_SCHEMA_VERSION),
  tool: z.object({ name: z.string(), version: z.string() }),
  startedAt: z.string(),
  finishedAt: z.string(),
  complete: z.boolean(),
  incompleteReason: z.string().optional(),
  inventory: z.object({ file: z.string(), sha256: z.string(), hosts: z.int().nonnegative() }),
  shard: shard.optional(),
  parts: z.array(z.object({ shard: shard.optional(), startedAt: z.string(), vantage: z.string() })).optional(),
  sites: z.array(z.string()).optional(),
  parameters: z.looseObject({ parallel: z.int().min(1), warnWaiverDays: z.int().nonnegative() }),
  hosts: z.array(
    z.object({
      address: z.string(),
      name: z.string().optional(),
      site: z.string().optional(),
      tags: z.array(z.string()),
      exitCode: z.int(),
      result: scanResultSchema,
    }),
  ),
  expiringWaivers: z.array(
    z.object({ address: z.string(), transport: z.string(), port: z.int(), ticket: z.string().optional(), reason: z.string(), expires: z.string(), daysLeft: z.int() }),
  ),
  exitCode: z.int(),
});

type Parsed = z.infer<typeof auditResultSchema>;
const modelFitsSchema = (audit: AuditResult): Parsed => audit;
const schemaFitsModel = (audit: Parsed): AuditResult => audit;
void modelFitsSchema;
void schemaFitsModel;

export function parseAuditText(text: string, file: string): AuditResult {
  return parseSavedDocument(text, file, { id: AUDIT_SCHEMA_ID, version: AUDIT_SCHEMA_VERSION, schema: auditResultSchema, what: 'audit' }) as AuditResult;
}

export function auditJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(auditResultSchema, { target: 'draft-2020-12', io: 'output' });
  return {
    $schema: schema.$schema,
    $id: `https://portmatrix.dev/schemas/audit-v${AUDIT_SCHEMA_VERSION}.schema.json`,
    title: `portmatrix audit, schemaVersion ${AUDIT_SCHEMA_VERSION}`,
    ...schema,
  };
}
