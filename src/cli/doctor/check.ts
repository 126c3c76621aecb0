/** One line of `earshot doctor`. */
export interface CheckResult {
  name: string;
  status: 'pass' | 'fail' | 'warn' | 'skip';
  /** A failing required check makes doctor exit non-zero. */
  required: boolean;
  detail: string;
  hint?: string;
}

export type Check = () => Promise<CheckResult>;

export function result(
  name: string,
  required: boolean,
  status: CheckResult['status'],
  detail: string,
  hint?: string,
): CheckResult {
  return { name, required, status, detail, ...(hint ? { hint } : {}) };
}

/** Runs a check with a deadline, turning a throw or a hang into a failed line. */
export async function runCheck(
  name: string,
  required: boolean,
  check: Check,
  timeoutMs: number,
): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve(
          result(name, required, 'fail', `no answer within ${Math.round(timeoutMs / 1000)} s`),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      check().catch((err: unknown) =>
        result(name, required, 'fail', (err as Error).message ?? String(err)),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
