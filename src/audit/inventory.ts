/**
 * The fleet inventory (`portmatrix audit <inventory.yaml>`): hosts or CIDR groups, each with
 * its matrix, components, platform, policy, profile, ports and tags; `defaults` fill what an
 * entry leaves out. One zod schema checks the file (file:line:col messages) and produces the
 * published JSON Schema for editors (schemas/inventory.schema.json). Pure: the caller reads.
 */
import { z } from 'zod';
import { CHECKS_MODES, type ChecksMode } from '../checks/model.js';
import { FAIL_ON_LEVELS, type FailOn } from '../conformance/model.js';
import { PROFILES, type ProfileName } from '../defaults.js';
import { PortmatrixError } from '../errors.js';
import { formatProblem, locateZodIssues, parseYamlText } from '../util/yaml-location.js';

export const INVENTORY_SCHEMA_VERSION = 1;

const name = z.string().trim().min(1);
const portSelection = z.string().trim().min(1).describe('all, matrix, none, or a list like 1-1024,5060');

/** What a host entry and the defaults may both say. */
const hostSettings = {
  matrix: name.optional().describe('a built-in matrix id (ip-office-9.1) or a matrix file, relative to the inventory'),
  components: z.array(name).min(1).optional().describe('components running on the host (default: the matrix defaults)'),
  platform: name.optional(),
  policy: name.optional().describe('a policy file (severities, waivers, conditions), relative to the inventory'),
  strict: z.boolean().optional(),
  profile: z.enum(Object.keys(PROFILES) as [ProfileName, ...ProfileName[]]).optional().describe('per-host caps: gentle (default, safe for an IP500 V2), normal, fast'),
  ports: portSelection.optional().describe('TCP ports (default all)'),
  udp: portSelection.optional().describe('UDP ports (default matrix)'),
  failOn: z.enum(FAIL_ON_LEVELS as [FailOn, ...FailOn[]]).optional(),
  checks: z
    .enum(CHECKS_MODES as [ChecksMode, ...ChecksMode[]])
    .optional()
    .describe('service checks after the scan, as scan --checks: documented (default), all, none; audit --checks overrides it for every host'),
  site: name.optional().describe('where the host is (selects hosts with audit --site)'),
  tags: z.array(name).optional(),
};

const hostEntry = z
  .strictObject({
    name: name.optional().describe('a label for reports (default: the address)'),
    address: name.optional().describe('an IPv4 or IPv6 address, or a host name'),
    cidr: name.optional().describe('a CIDR block: one host per address, each audited on its own'),
    ...hostSettings,
  })
  .superRefine((entry, ctx) => {
    if ((entry.address === undefined) === (entry.cidr === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of address or cidr' });
    }
    if (entry.cidr !== undefined && entry.name !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'a cidr group names its hosts by address: use tags or site instead of name' });
    }
  });

export const inventorySchema = z.strictObject({
  schemaVersion: z.literal(INVENTORY_SCHEMA_VERSION),
  defaults: z.strictObject(hostSettings).optional(),
  hosts: z.array(hostEntry).min(1),
});

export type Inventory = z.infer<typeof inventorySchema>;
export type InventoryHost = z.infer<typeof hostEntry>;
export type HostSettings = Omit<InventoryHost, 'name' | 'address' | 'cidr'>;

/** A host entry with the defaults applied (tags are the union). */
export interface InventoryEntry extends HostSettings {
  /** Where in the file the entry is ("hosts[3]"), for messages. */
  where: string;
  name?: string;
  address?: string;
  cidr?: string;
  tags: string[];
}

export function parseInventoryText(text: string, file: string): InventoryEntry[] {
  const parsed = parseYamlText(text, file);
  if (!parsed.ok) throw new PortmatrixError('E_USAGE', formatProblem(parsed.problem, parsed.where), { hint: 'fix the inventory file' });
  const { data, doc, where } = parsed.parsed;
  const result = inventorySchema.safeParse(data ?? {});
  if (!result.success) {
    const problems = locateZodIssues(result.error.issues, data, doc, inventorySchema);
    const first = problems[0];
    if (!first) throw new Error('zod reported a failure without issues');
    const more = problems.length - 1;
    throw new PortmatrixError('E_USAGE', formatProblem(first, where), {
      hint: more > 0 ? `${more} more problem${more === 1 ? '' : 's'} after this one` : 'see schemas/inventory.schema.json',
    });
  }
  const defaults = result.data.defaults ?? {};
  return result.data.hosts.map((host, index) => ({
    ...defaults,
    ...host,
    where: `hosts[${index}]`,
    tags: [...new Set([...(defaults.tags ?? []), ...(host.tags ?? [])])],
  }));
}

export function inventoryJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(inventorySchema, { target: 'draft-2020-12', io: 'input' });
  return {
    $schema: schema.$schema,
    $id: `https://portmatrix.dev/schemas/inventory-v${INVENTORY_SCHEMA_VERSION}.schema.json`,
    title: `portmatrix audit inventory, schemaVersion ${INVENTORY_SCHEMA_VERSION}`,
    ...schema,
  };
}
