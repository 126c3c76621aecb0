import { ERROR_CODES, type CodeInfo, type ErrorCode } from './error-codes.js';

/**
 * Errors with a stable `code` from the registry (`error-codes.ts`), so callers, logs,
 * MQTT and tests can tell failures apart without matching on message text. Without a
 * hint of its own, an error carries its code's hint from the registry.
 */
export class EarshotError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'EarshotError';
    this.code = code;
    this.hint = options?.hint ?? (ERROR_CODES[code] as CodeInfo).hint;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export function errorCode(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return 'E_UNKNOWN';
}
