/** Wrapping errors keep what they wrap as `cause`: the one-line message is for the user, the cause for whoever debugs. */
import { describe, expect, it } from 'vitest';
import { PortmatrixError } from '../../src/errors.js';
import { loadMatrix } from '../../src/matrix/load.js';

describe('error causes', () => {
  it('a matrix that is neither a file nor a built-in id: E_MATRIX_NOT_FOUND, caused by the failed read (ENOENT)', async () => {
    const error = await loadMatrix('ip-office-0.0').then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(PortmatrixError);
    expect((error as PortmatrixError).code).toBe('E_MATRIX_NOT_FOUND');
    const cause = (error as Error).cause as Error & { cause?: NodeJS.ErrnoException };
    expect(cause).toBeInstanceOf(PortmatrixError);
    expect(cause.cause?.code).toBe('ENOENT');
  });
});
