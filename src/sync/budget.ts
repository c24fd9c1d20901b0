/**
 * Counts the subrequests of one sync step against its cap (config.sync.maxSubrequestsPerStep).
 *
 * NOTE: Workers also count each redirect hop and calls to R2 and D1 bindings. This
 * budget counts upstream fetches, with one extra hop per download because GitHub
 * redirects once, plus the installer's R2 write. Keep the cap well below the platform limit.
 */
export class SubrequestBudget {
  used = 0;

  constructor(readonly max: number) {}

  /** Reserves `count` subrequests; returns false, reserving nothing, when they do not fit. */
  take(count: number): boolean {
    if (this.used + count > this.max) return false;
    this.used += count;
    return true;
  }

  get remaining(): number {
    return this.max - this.used;
  }
}
