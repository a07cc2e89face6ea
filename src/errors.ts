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

/** The exit code of each error: a user's mistake is 2; a scan that could not run at all is 3 (README "Exit codes"). */
export const ERROR_EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
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

/** A bug, not the user's input (BSD sysexits EX_SOFTWARE): the CLI keeps the stack trace. */
export const EXIT_INTERNAL_ERROR = 70;

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
    return ERROR_EXIT_CODES[this.code];
  }
}

/** The single line a user sees for an error: message, then what to do. */
export function formatUserError(error: PortmatrixError): string {
  return error.hint ? `${error.message} (${error.hint})` : error.message;
}
