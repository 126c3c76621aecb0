/**
 * Errors with a stable `code`, so callers, logs, MQTT and tests can tell failures
 * apart without matching on message text.
 */
export class EarshotError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'EarshotError';
    this.code = code;
    this.hint = options?.hint;
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
