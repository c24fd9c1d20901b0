/**
 * Counts the subrequests of one sync step against its cap (config.sync.maxSubrequestsPerStep).
 *
 * NOTE: Workers count each redirect hop and each call to R2 and D1 bindings; this
 * budget counts upstream fetches with one extra hop for downloads (GitHub redirects
 * once) and every R2 write, and leaves D1 calls out, so keep the cap well below the
 * platform limit.
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
