import { describe, expect, it } from 'vitest';
import { PortmatrixError } from '../../../src/errors.js';
import { parsePortOption } from '../../../src/scan/port-plan.js';

describe('parsePortOption', () => {
  it('all, none, spec, matrix', () => {
    expect(parsePortOption('all', '--ports', [])).toEqual([{ start: 1, end: 65535 }]);
    expect(parsePortOption('none', '--ports', [])).toEqual([]);
    expect(parsePortOption('5060,1-1024,1000-2000', '--ports', [])).toEqual([{ start: 1, end: 2000 }, { start: 5060, end: 5060 }]);
    expect(parsePortOption('matrix', '--ports', [{ start: 443, end: 443 }, { start: 80, end: 80 }])).toEqual([{ start: 80, end: 80 }, { start: 443, end: 443 }]);
  });
  it.each([
    ['0', /outside 1-65535/],
    ['70000', /outside 1-65535/],
    ['10-5', /reversed/],
    ['abc', /not a port number/],
    ['1,,2', /empty item/],
  ])('%s -> one E_PORT_SPEC line naming the option', (spec, message) => {
    try {
      parsePortOption(spec, '--ports', []);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PortmatrixError);
      expect((error as PortmatrixError).code).toBe('E_PORT_SPEC');
      expect((error as PortmatrixError).exitCode).toBe(2);
      expect((error as Error).message).toMatch(/^--ports /);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    }
  });
  it('matrix without a matrix is a usage error', () => {
    expect(() => parsePortOption('matrix', '--udp', [])).toThrow(/--udp matrix/);
  });
});
