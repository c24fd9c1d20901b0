/** Delay before the first retry of a failed download. */
export const RETRY_BASE_DELAY_MS = 60_000;
/** Maximum delay between retries. */
export const RETRY_MAX_DELAY_MS = 6 * 3_600_000;

/**
 * Returns when a file that failed `attempts` times may be fetched again: the delay
 * doubles with each failure, from one minute up to six hours.
 *
 * @example nextAttemptAt(1, "2025-01-01T00:00:00.000Z") // "2025-01-01T00:01:00.000Z"
 */
export function nextAttemptAt(attempts: number, now: string): string {
  const exponent = Math.max(0, Math.min(attempts - 1, 30));
  const delayMs = Math.min(RETRY_BASE_DELAY_MS * 2 ** exponent, RETRY_MAX_DELAY_MS);
  return new Date(Date.parse(now) + delayMs).toISOString();
}
