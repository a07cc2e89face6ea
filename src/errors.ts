/**
 * Errors with a stable `code`, a one-line message that says what and where,
 * a `hint` that says what to do, and the exit code the CLI maps them to.
 * The library throws these; only the CLI turns them into output and exit codes.
 */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_MATRIX_SYNTAX'
  | 'E_MATRIX_INVALID'
  | 'E_MATRIX_NOT_FOUND'
  | 'E_IMPORT'
  | 'E_TARGET'
  | 'E_PORT_SPEC'
  | 'E_POLICY'
  | 'E_RESULT'
  | 'E_OUTPUT'
  | 'E_SCAN';

const exitCodes: Record<ErrorCode, number> = {
  E_USAGE: 2,
  E_MATRIX_SYNTAX: 2,
  E_MATRIX_INVALID: 2,
  E_MATRIX_NOT_FOUND: 2,
  E_IMPORT: 2,
  E_TARGET: 2,
  E_PORT_SPEC: 2,
  E_POLICY: 2,
  E_RESULT: 2,
  E_OUTPUT: 2,
  E_SCAN: 3,
};

export class PortmatrixError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PortmatrixError';
    this.code = code;
    this.hint = options.hint;
  }

  get exitCode(): number {
    return exitCodes[this.code];
  }
}

/** The single line a user sees for an error: message, then what to do. */
export function formatUserError(error: PortmatrixError): string {
  return error.hint ? `${error.message} (${error.hint})` : error.message;
}
