/**
 * The saved-result format (JSON) as a zod schema: the one source for reading results back
 * (`portmatrix report`) and for the published JSON Schema (schemas/result.schema.json,
 * written by scripts/write-result-schema.ts and checked by a test). Compile-time checks
 * below keep it equal to the ScanResult type in src/result/model.ts.
 */
import { z } from 'zod';
import { CHECKS_MODES, TLS_VERSIONS } from '../checks/model.js';
import type { ChecksMode, TlsVersion } from '../checks/model.js';
import { FAIL_ON_LEVELS, FINDING_KINDS, SEVERITIES } from '../conformance/model.js';
import type { FailOn, FindingKind, Severity } from '../conformance/model.js';
import { conditionSchema, documentNoteSchema, documentedStateSchema, rowRefSchema } from '../matrix/model.js';
import { RESULT_SCHEMA_ID, RESULT_SCHEMA_VERSION } from '../result/model.js';
import type { ScanResult } from '../result/model.js';
import { PORT_STATES, TRANSPORTS } from '../model/port-state.js';
import type { PortState, Reason, Transport } from '../model/port-state.js';

const REASONS = {
  'syn-ack': true,
  'conn-refused': true,
  reset: true,
  'no-response': true,
  'udp-response': true,
  'icmp-port-unreach': true,
  'icmp-net-unreach': true,
  'icmp-host-unreach': true,
  'icmp-proto-unreach': true,
  'icmp-net-prohibited': true,
  'icmp-host-prohibited': true,
  'icmp-admin-prohibited': true,
  'host-unreach': true,
  'net-unreach': true,
  'send-denied': true,
} as const satisfies Record<Reason, true>;

export const port = z.int().min(1).max(65535);
export const transport = z.enum(TRANSPORTS as [Transport, ...Transport[]]);
export const portState = z.enum(PORT_STATES as [PortState, ...PortState[]]);
const reason = z.enum(Object.keys(REASONS) as [Reason, ...Reason[]]);
const severity = z.enum(SEVERITIES as [Severity, ...Severity[]]);
const findingKind = z.enum(FINDING_KINDS as [FindingKind, ...FindingKind[]]);
const failOn = z.enum(FAIL_ON_LEVELS as [FailOn, ...FailOn[]]);

const observationSchema = z.object({
  transport,
  port,
  state: portState,
  reason,
  rttMs: z.number().nonnegative().nullable(),
  attempts: z.int().nonnegative(),
  service: z.string().optional(),
  banner: z.string().optional().describe('untrusted text read from the network'),
  detail: z.string().optional().describe('why the port got its state, when the state alone does not say (e.g. why a UDP port stayed open|filtered)'),
  flapping: z.literal(true).optional().describe('open on the main pass, not on a second look just before the report'),
});

const hostStatusSchema = z.object({
  state: z.enum(['up', 'down', 'unreachable']),
  reason: z.enum(['port-answered', 'no-response', 'host-unreach', 'no-route', 'net-unreach', 'send-denied']),
  assumed: z.boolean().optional().describe('--assume-up: judged as up although the evidence says otherwise'),
});

const hostScanSchema = z.object({
  target: z.string().describe('the target as written: an address, a host name, or the CIDR block this host came from'),
  address: z.string().describe("the host's identity: findings, report sections and drift are keyed by it"),
  family: z.union([z.literal(4), z.literal(6)]),
  name: z.string().optional().describe('the host name the address was resolved from'),
  plan: z.object({ tcp: z.string(), udp: z.string() }),
  observations: z.array(observationSchema),
  folded: z.array(z.object({ transport, state: portState, reason, count: z.int().nonnegative() })),
  complete: z.boolean(),
  answersEverything: z
    .object({ transport: z.literal('tcp'), openPorts: z.int().nonnegative(), scannedPorts: z.int().nonnegative(), invalidAnswers: z.int().nonnegative() })
    .optional()
    .describe('the host answers on (nearly) every TCP port, or sends answers that fail validation: its open ports say nothing about listeners'),
  status: hostStatusSchema.describe('only an up host is judged against the matrix; a host that is not up gets one host-not-up finding'),
});

const expectationRefSchema = rowRefSchema.extend({ matrix: z.string(), document: z.string(), rowId: z.string() });

const expectationSchema = z.object({
  transport,
  start: port,
  end: port,
  state: documentedStateSchema,
  optional: z.boolean(),
  dynamic: z.boolean(),
  condition: conditionSchema.optional(),
  internal: z.boolean(),
  configurable: z.array(z.object({ start: port, end: port })).optional(),
  protocol: z.string(),
  component: z.string(),
  description: z.string(),
  ref: expectationRefSchema,
});

export const findingSchema = z.object({
  kind: findingKind,
  severity,
  host: z.string().describe('address of the host (hosts[].address)'),
  transport,
  port: z.int().min(0).max(65535).describe('0: a finding about the whole host (every port of the transport)'),
  expected: z.union([documentedStateSchema, z.literal('not documented')]),
  observed: portState,
  reason,
  ref: expectationRefSchema.optional(),
  message: z.string(),
  component: z.string().optional(),
  waiver: z
    .object({ reason: z.string(), ticket: z.string().optional(), expires: z.string(), expired: z.boolean().optional() })
    .optional(),
  movedTo: z.object({ port, state: portState, reason, banner: z.string().optional() }).optional(),
  banner: z.string().optional(),
  detail: z.string().optional(),
});

export const tlsVersion = z.enum(TLS_VERSIONS as [TlsVersion, ...TlsVersion[]]);
const untrusted = (what: string) => z.string().describe(`untrusted text read from the network: ${what}`);

const serviceCheckSchema = z.object({
  host: z.string(),
  name: z.string().optional(),
  transport: z.literal('tcp'),
  port,
  check: z.string().describe('the check that ran: https, http, http(s), tls, ssh, sip, sips, ldap, ldaps, smtp, imap, pop3, ftp, probe ...'),
  basis: z.enum(['documented', 'well-known-port', 'probe']),
  rowIds: z.array(z.string()),
  documentedProtocol: z.string().optional(),
  outcome: z.enum(['answered', 'mismatch', 'no-answer']),
  protocolSeen: z.string().optional(),
  detail: z.string().optional(),
  tls: z
    .object({
      version: tlsVersion,
      cipher: z.string(),
      versionsOffered: z.array(tlsVersion),
      certificate: z
        .object({
          subject: untrusted('certificate subject'),
          issuer: untrusted('certificate issuer'),
          subjectAltNames: z.array(untrusted('subjectAltName entry')),
          selfSigned: z.boolean(),
          notBefore: z.string(),
          notAfter: z.string(),
          serialNumber: z.string(),
          fingerprint256: z.string(),
          matchesHost: z.boolean().nullable(),
        })
        .optional(),
    })
    .optional(),
  http: z
    .object({ status: z.int(), location: untrusted('Location header').optional(), redirectsToHttps: z.boolean().optional(), server: untrusted('Server header').optional() })
    .optional(),
  banner: untrusted('SSH identification, greeting, SIP status and Server header, LDAP rootDSE').optional(),
  connections: z.int().nonnegative(),
  durationMs: z.number().nonnegative(),
});

/** The drift between two runs (portmatrix diff's JSON body; schemas/drift.schema.json adds schema and version): a result's "since the previous run" section holds one. */
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

export const driftBody = z.object({ before: runSchema, after: runSchema, equal: z.boolean(), hosts: z.array(hostDriftSchema) });

export const scanResultSchema = z.object({
  schema: z.literal(RESULT_SCHEMA_ID),
  schemaVersion: z.literal(RESULT_SCHEMA_VERSION),
  tool: z.object({ name: z.string(), version: z.string() }),
  startedAt: z.string(),
  finishedAt: z.string(),
  complete: z.boolean(),
  incompleteReason: z.string().optional(),
  vantage: z.object({ hostname: z.string(), sourceAddresses: z.array(z.string()) }),
  parameters: z.record(z.string(), z.unknown()),
  hosts: z.array(hostScanSchema),
  checks: z
    .object({ mode: z.enum(CHECKS_MODES as [ChecksMode, ...ChecksMode[]]), services: z.array(serviceCheckSchema), durationMs: z.number().nonnegative() })
    .optional(),
  conformance: z
    .object({
      matrix: z.object({ id: z.string(), product: z.string(), version: z.string(), document: z.string() }),
      selection: z.object({ matrix: z.string(), components: z.array(z.string()), platform: z.string() }),
      failOn,
      conditions: z.array(z.string()).optional().describe('conditions declared to hold: kinds, row ids or *'),
      notes: z.array(documentNoteSchema).optional().describe("the document's notes that change what a scan should expect"),
      expectations: z.array(expectationSchema),
      findings: z.array(findingSchema),
      hostFindings: z.array(
        z.object({ kind: z.literal('host-not-up'), severity, host: z.string(), status: hostStatusSchema, message: z.string() }),
      ),
    })
    .optional(),
  sincePrevious: z
    .object({
      source: z.string().describe('where the previous run was read from: a history entry or the --baseline file'),
      matrixChanged: z
        .object({ before: z.string(), after: z.string() })
        .optional()
        .describe("the previous run was judged against another matrix: its observations were judged again against this run's"),
      drift: driftBody,
    })
    .optional()
    .describe('what changed since the previous run (--history, --baseline)'),
});

// The schema and the TypeScript model must describe the same thing, both ways.
type Parsed = z.infer<typeof scanResultSchema>;
const modelFitsSchema = (result: ScanResult): Parsed => result;
const schemaFitsModel = (result: Parsed): ScanResult => result;
void modelFitsSchema;
void schemaFitsModel;

/** The published JSON Schema of a saved result. */
export function resultJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(scanResultSchema, { target: 'draft-2020-12', io: 'output' });
  return {
    $schema: schema.$schema,
    $id: `https://portmatrix.dev/schemas/result-v${RESULT_SCHEMA_VERSION}.schema.json`,
    title: `portmatrix scan result, schemaVersion ${RESULT_SCHEMA_VERSION}`,
    ...schema,
  };
}
