/**
 * The built CLI (node bin/portmatrix.js, after `npm run build`) on matrix files: broken files give one
 * line naming file:line:col, exit code 2 and no stack trace; list/show/validate print what they promise.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const brokenDir = 'fixtures/matrix/broken';

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/portmatrix.js', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Each broken fixture and the exact line the user sees (after "portmatrix: "). */
const broken: Record<string, string> = {
  'yaml-unclosed-flow.yaml': '20:5: YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]',
  'yaml-bad-indent.yaml': '29:1: YAML syntax: All mapping items must start at the same column',
  'yaml-duplicate-key.yaml': '22:5: YAML syntax: Map keys must be unique',
  'unknown-field.yaml':
    '32:5: rows[1].protocl: unknown field "protocl" (allowed: id, component, direction, transports, ports, configurable, state, optional, dynamic, protocol, peer, description, platforms, condition, ref, notes) (1 more problem after this one)',
  'missing-field.yaml': '16:5: rows[0].protocol: missing required field "protocol"',
  'missing-rows.yaml': '1:1: rows: missing required field "rows"',
  'port-zero.yaml': '29:12: rows[1].ports: port 0 is outside 1-65535',
  'port-65536.yaml': '29:12: rows[1].ports: port 65536 is outside 1-65535',
  'port-abc.yaml': '20:12: rows[0].ports: "abc" is not a port number',
  'port-reversed-range.yaml': '20:12: rows[0].ports: range 5061-5060 is reversed; write 5060-5061',
  'port-unquoted-number.yaml': '29:12: rows[1].ports: expected string, got number 5488 (quote it: "5488")',
  'configurable-out-of-range.yaml': '30:19: rows[1].configurable: port 70000 is outside 1-65535',
  'unknown-state.yaml':
    '30:12: rows[1].state: unknown state "opne": expected open, closed, filtered, n/a, or { conditional: "document text" }',
  'unknown-direction.yaml': '27:16: rows[1].direction: unknown value "inbound": expected one of ingress, egress, intra-device',
  'unknown-transport.yaml': '28:18: rows[1].transports[0]: unknown value "sctp": expected one of tcp, udp',
  'duplicate-row-id.yaml': '25:9: rows[1].id: duplicate row id "core-1"',
  'unknown-component.yaml': '26:16: rows[1].component: unknown component "voicemail" (known: core)',
  'unknown-platform.yaml': '33:17: rows[1].platforms[0]: unknown platform "windows"',
  'wrong-schema-version.yaml': '1:16: schemaVersion: expected 1, got number 2',
  'not-a-mapping.yaml': '1:1: expected object, got a list',
  'empty.yaml': '1:1: the file is empty (a matrix is a YAML mapping that starts with "schemaVersion: 1")',
};

describe('portmatrix matrix validate <broken file>', () => {
  it('has an expectation for every broken fixture', () => {
    const files = readdirSync(path.join(repoRoot, brokenDir)).filter((name) => name.endsWith('.yaml'));
    expect(files.sort()).toEqual(Object.keys(broken).sort());
  });

  for (const [name, expected] of Object.entries(broken)) {
    it(name, () => {
      const file = `${brokenDir}/${name}`;
      const { status, stdout, stderr } = run('matrix', 'validate', file);
      expect(stderr).toBe(`portmatrix: ${file}:${expected}\n`);
      expect(status).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('show and --listeners refuse a broken file with the same line', () => {
    const file = `${brokenDir}/port-abc.yaml`;
    for (const args of [['matrix', 'show', file], ['matrix', 'show', file, '--listeners']]) {
      const { status, stderr } = run(...args);
      expect(stderr).toBe(`portmatrix: ${file}:${broken['port-abc.yaml']}\n`);
      expect(status).toBe(2);
    }
  });
});

describe('portmatrix matrix', () => {
  it('validate says ok with the row count', () => {
    const { status, stdout } = run('matrix', 'validate', 'fixtures/matrix/small.yaml');
    expect(status).toBe(0);
    expect(stdout).toBe('ok: 8 rows, 2 components, 1 history entry (small-pbx-1.0, fixtures/matrix/small.yaml)\n');
  });

  it('a matrix that is neither a file nor a built-in id: one line, exit 2', () => {
    const { status, stderr } = run('matrix', 'show', 'no-such-matrix');
    expect(status).toBe(2);
    expect(stderr.split('\n')).toHaveLength(2);
    expect(stderr).toMatch(/^portmatrix: matrix "no-such-matrix" not found: no such file and no built-in matrix of that id \(built-in matrices: /);
  });

  it('an unknown component names the valid ones, exit 2', () => {
    const { status, stderr } = run('matrix', 'show', 'fixtures/matrix/small.yaml', '--listeners', '--component', 'vm');
    expect(status).toBe(2);
    expect(stderr).toBe('portmatrix: unknown component "vm" for matrix small-pbx-1.0 (components of small-pbx-1.0: core, voicemail)\n');
  });

  it('show --listeners --json gives the selection and its expectations', () => {
    const { status, stdout } = run('matrix', 'show', 'fixtures/matrix/small.yaml', '--listeners', '--json', '--component', 'core,voicemail');
    expect(status).toBe(0);
    const shown = JSON.parse(stdout) as { selection: unknown; expectations: { transport: string; start: number; ref: { rowId: string } }[] };
    expect(shown.selection).toEqual({ matrix: 'small-pbx-1.0', components: ['core', 'voicemail'], platform: 'linux' });
    expect(shown.expectations.map((e) => `${e.transport}/${e.start}`)).toEqual([
      'tcp/5060', 'udp/5060', 'tcp/5061', 'udp/5061', 'tcp/5488', 'tcp/5489', 'tcp/8005', 'tcp/22', 'udp/40750', 'tcp/8080', 'tcp/50791',
    ]);
  });

  it('show renders a table of rows with their reference', () => {
    const { status, stdout } = run('matrix', 'show', 'fixtures/matrix/small.yaml', '--component', 'voicemail');
    expect(status).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('Small PBX 1.0 (small-pbx-1.0): 1 row (components voicemail; platform linux)');
    expect(stdout).toMatch(/│ vm-1 +│ voicemail +│ ingress +│ tcp +│ 50791 +│ open +│ no +│ +│ TCP\/Voicemail +│ all +│ Voicemail ports #1 │/);
    expect(stdout).not.toContain('core-1');
  });

  it('show gives each row its condition and the document notes that change what a scan should expect', () => {
    const { status, stdout } = run('matrix', 'show', 'cms-r20');
    expect(status).toBe(0);
    expect(stdout).toMatch(/│ cms-2 +│ cms +│ ingress +│ tcp +│ 23 +│ open +│ no +│ localhost-only: "Open only for localhost\." +│/);
    expect(stdout).toMatch(/│ cms-12 +│ cms +│ ingress +│ tcp +│ 3077-3079 +│ open +│ yes +│ ha: "CMS \(HA pair\)" +│/);
    expect(stdout).toContain('Document notes that change what a scan should expect:\n  firewall (line 79): NOTE: By default, all ports on CMS are open.');
    const listeners = run('matrix', 'show', 'aacc-7.1.2', '--component', 'ccmm', '--listeners');
    expect(listeners.stdout).toMatch(/│ tcp +│ 50000 +│ open +│ no +│ only if ha: "Responsible for Clustering on HA installations\." +│/);
  });

  it('list shows every built-in matrix with its components and platforms; --json agrees', () => {
    const table = run('matrix', 'list');
    expect(table.status).toBe(0);
    const json = run('matrix', 'list', '--json');
    const matrices = JSON.parse(json.stdout) as { id: string; rows: number; components: { id: string; platforms: string[]; rows: number }[] }[];
    expect(matrices.map((m) => m.id)).toEqual(['aacc-7.1.2', 'client-sdk-4', 'cms-r20', 'ip-office-9.1', 'wfos-5.2.3']);
    for (const m of matrices) {
      expect(table.stdout).toContain(`│ ${m.id} `);
      expect(m.components.reduce((sum, c) => sum + c.rows, 0)).toBe(m.rows);
      for (const component of m.components) expect(table.stdout).toContain(component.platforms.join(', '));
    }
    const ipOffice = matrices.find((m) => m.id === 'ip-office-9.1');
    expect(ipOffice?.components.map((c) => c.id)).toEqual(['ip-office', 'voicemail-pro', 'one-x-portal', 'contact-recorder']);
  });
});
