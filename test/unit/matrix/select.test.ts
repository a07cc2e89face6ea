import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PortmatrixError } from '../../../src/errors.js';
import { listBuiltinMatrices } from '../../../src/matrix/load.js';
import { parseMatrixText } from '../../../src/matrix/parse.js';
import type { Matrix } from '../../../src/matrix/model.js';
import { countPorts, parsePortSpec } from '../../../src/model/port-range.js';
import { selectExpectations } from '../../../src/matrix/select.js';
import type { Expectation } from '../../../src/matrix/expectation.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const small = parseMatrixText(await readFile(path.join(repoRoot, 'fixtures/matrix/small.yaml'), 'utf8'), 'small.yaml');
const builtins = await listBuiltinMatrices();
const builtin = (id: string): Matrix => {
  const found = builtins.find((loaded) => loaded.matrix.id === id);
  if (!found) throw new Error(`built-in matrix ${id} is missing`);
  return found.matrix;
};

/** "tcp/5060" (or "udp/40750-50750") for compact comparisons. */
const keyOf = (expectation: Expectation): string =>
  `${expectation.transport}/${expectation.start}${expectation.end === expectation.start ? '' : `-${expectation.end}`}`;
const keysOfRow = (expectations: Expectation[], rowId: string): string[] =>
  expectations.filter((expectation) => expectation.ref.rowId === rowId).map(keyOf);

function usageError(run: () => unknown): PortmatrixError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PortmatrixError);
    expect((error as PortmatrixError).code).toBe('E_USAGE');
    return error as PortmatrixError;
  }
  throw new Error('expected an E_USAGE error');
}

describe('selectExpectations on a hand-written matrix', () => {
  const { selection, expectations } = selectExpectations(small, { platform: 'linux' });

  it('selects the default components and the platform asked for', () => {
    expect(selection).toEqual({ matrix: 'small-pbx-1.0', components: ['core'], platform: 'linux' });
    expect(selectExpectations(small).selection.platform).toBe('appliance');
  });

  it('gives tcp and udp on both ports of a UDP+TCP+TLS/SIP 5060-5061 row', () => {
    expect(keysOfRow(expectations, 'core-1')).toEqual(['tcp/5060', 'udp/5060', 'tcp/5061', 'udp/5061']);
  });

  it('gives one expectation per port of a list', () => {
    expect(keysOfRow(expectations, 'core-2')).toEqual(['tcp/5488', 'tcp/5489']);
  });

  it('gives nothing for an egress row', () => {
    expect(keysOfRow(expectations, 'core-3')).toEqual([]);
  });

  it('marks intra-device rows internal and only them', () => {
    expect(expectations.filter((expectation) => expectation.internal).map((expectation) => expectation.ref.rowId)).toEqual(['core-4']);
  });

  it('keeps a conditional state verbatim and follows row platforms', () => {
    expect(expectations.find((expectation) => expectation.ref.rowId === 'core-5')?.state).toEqual({ conditional: 'Open if HA' });
    expect(keysOfRow(selectExpectations(small, { platform: 'appliance' }).expectations, 'core-5')).toEqual([]);
  });

  it('keeps a dynamic media range whole and carries a configurable range', () => {
    expect(keysOfRow(expectations, 'core-6')).toEqual(['udp/40750-50750']);
    expect(expectations.find((expectation) => expectation.ref.rowId === 'core-6')?.dynamic).toBe(true);
    expect(expectations.find((expectation) => expectation.ref.rowId === 'core-7')?.configurable).toEqual([{ start: 1024, end: 65535 }]);
  });

  it('cites matrix, document, table and row', () => {
    expect(expectations[0]?.ref).toEqual({
      matrix: 'small-pbx-1.0',
      document: 'Small PBX Port Matrix (test fixture)',
      rowId: 'core-1',
      table: 'Core ports',
      row: '1',
    });
  });

  it('names the valid choices for an unknown component or platform, or a platform a component does not run on', () => {
    expect(usageError(() => selectExpectations(small, { components: ['vm'] })).hint).toBe('components of small-pbx-1.0: core, voicemail');
    expect(usageError(() => selectExpectations(small, { platform: 'ip500' })).hint).toBe('platforms of small-pbx-1.0: appliance, linux, windows');
    expect(usageError(() => selectExpectations(small, { components: ['voicemail'], platform: 'appliance' })).message).toBe(
      'component voicemail does not run on platform "appliance"',
    );
  });

  it('picks the first platform that every selected component runs on', () => {
    expect(selectExpectations(small, { components: ['core', 'voicemail'] }).selection.platform).toBe('linux');
  });
});

describe('selectExpectations on every built-in matrix', () => {
  it('has the five built-in matrices of CONTRACTS.md', () => {
    expect(builtins.map((loaded) => loaded.matrix.id).sort()).toEqual(['aacc-7.1.2', 'client-sdk-4', 'cms-r20', 'ip-office-9.1', 'wfos-5.2.3']);
  });

  // Every component alone on each of its platforms: the expectations are exactly the listener rows that
  // apply, port by port (dynamic ranges whole), for each transport of the row.
  for (const { matrix } of builtins) {
    for (const component of matrix.components) {
      for (const platform of component.platforms) {
        it(`${matrix.id} ${component.id} on ${platform}`, () => {
          const { expectations } = selectExpectations(matrix, { components: [component.id], platform });
          const rowsById = new Map(matrix.rows.map((row) => [row.id, row]));
          for (const expectation of expectations) {
            const row = rowsById.get(expectation.ref.rowId);
            expect(row, expectation.ref.rowId).toBeDefined();
            if (!row) continue;
            expect(row.direction).not.toBe('egress');
            expect(row.component).toBe(component.id);
            expect(row.platforms === undefined || row.platforms.includes(platform)).toBe(true);
            expect(expectation.internal).toBe(row.direction === 'intra-device');
            expect(expectation.dynamic || expectation.start === expectation.end).toBe(true);
            expect(expectation.ref).toMatchObject({ table: row.ref.table, row: row.ref.row, matrix: matrix.id });
          }
          const applying = matrix.rows.filter(
            (row) => row.component === component.id && row.direction !== 'egress' && (row.platforms?.includes(platform) ?? true),
          );
          for (const row of applying) {
            const parsed = parsePortSpec(row.ports);
            if (!parsed.ok) throw new Error(parsed.error);
            const fromRow = expectations.filter((expectation) => expectation.ref.rowId === row.id);
            const perTransport = row.dynamic ? parsed.ranges.length : countPorts(parsed.ranges);
            expect(fromRow, row.id).toHaveLength(perTransport * new Set(row.transports).size);
          }
        });
      }
    }
  }
});

describe('built-in matrices: rows the issue names', () => {
  const ipOffice = (platform: string) => selectExpectations(builtin('ip-office-9.1'), { components: ['ip-office'], platform }).expectations;
  const portsOf = (expectations: Expectation[], port: number) =>
    expectations.filter((expectation) => expectation.start === port && expectation.end === port);

  it('ip-office-9.1: SIP 5060-5061 (UDP+TCP+TLS) gives tcp and udp on both ports, open and optional', () => {
    for (const port of [5060, 5061]) {
      const sip = portsOf(ipOffice('ip500v2'), port).filter((expectation) => /SIP/i.test(expectation.protocol));
      expect(sip.map((expectation) => expectation.transport).sort()).toEqual(['tcp', 'udp']);
      for (const expectation of sip) expect(expectation).toMatchObject({ state: 'open', optional: true, internal: false });
    }
  });

  it('ip-office-9.1: 5488/5489 (VAMI CIM) is two tcp listeners, only on the Linux platform', () => {
    for (const port of [5488, 5489]) {
      expect(portsOf(ipOffice('linux'), port).map((expectation) => expectation.transport)).toEqual(['tcp']);
      expect(portsOf(ipOffice('ip500v2'), port)).toEqual([]);
    }
  });

  it('ip-office-9.1: a "only IP Office Linux" row (7070) follows the platform', () => {
    expect(portsOf(ipOffice('linux'), 7070)).toHaveLength(1);
    expect(portsOf(ipOffice('ip500v2'), 7070)).toHaveLength(0);
  });

  it('every matrix: egress rows exist and give no expectation', () => {
    for (const { matrix } of builtins) {
      const egress = new Set(matrix.rows.filter((row) => row.direction === 'egress').map((row) => row.id));
      const all = matrix.components.flatMap((component) =>
        component.platforms.flatMap((platform) => selectExpectations(matrix, { components: [component.id], platform }).expectations),
      );
      expect(all.filter((expectation) => egress.has(expectation.ref.rowId)), matrix.id).toEqual([]);
    }
    expect(builtin('ip-office-9.1').rows.some((row) => row.direction === 'egress')).toBe(true);
  });

  it('ip-office-9.1: intra-device rows are marked internal', () => {
    const matrix = builtin('ip-office-9.1');
    const intra = matrix.rows.filter((row) => row.direction === 'intra-device');
    expect(intra.length).toBeGreaterThan(0);
    const selected = matrix.components.flatMap((component) =>
      component.platforms.flatMap((platform) => selectExpectations(matrix, { components: [component.id], platform }).expectations),
    );
    for (const row of intra) {
      const fromRow = selected.filter((expectation) => expectation.ref.rowId === row.id);
      expect(fromRow.length, row.id).toBeGreaterThan(0);
      expect(fromRow.every((expectation) => expectation.internal)).toBe(true);
    }
  });

  it('client-sdk-4: a client, so its only expectations are documented dynamic media ranges', () => {
    const matrix = builtin('client-sdk-4');
    const all = matrix.components.flatMap((component) =>
      component.platforms.flatMap((platform) => selectExpectations(matrix, { components: [component.id], platform }).expectations),
    );
    expect(all.length).toBeGreaterThan(0);
    for (const expectation of all) expect(expectation.dynamic, `${keyOf(expectation)} ${expectation.ref.rowId}`).toBe(true);
  });
});
