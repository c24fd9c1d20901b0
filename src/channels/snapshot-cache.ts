/**
 * A per-isolate cache of the stored inputs behind channel answers (channel config and
 * state, live policy, offerable versions), so that a channel lookup does not read D1 on
 * every request.
 *
 * Writes in this isolate (every path that changes those inputs ends in
 * `refreshChannelStates`) clear it at once. Other isolates, such as the one running the
 * cron sync on Cloudflare, see a change after at most the TTL (CHANNEL_CACHE_TTL_MS).
 */
type Entry = { expiresAtMs: number; value: Promise<unknown> };

const entries = new Map<string, Entry>();

/**
 * Returns the cached value for `key`, or loads it and keeps it for `ttlMs`. A TTL of 0
 * turns caching off. A failed load is not kept.
 */
export function cachedSnapshot<T>(key: string, ttlMs: number, nowMs: number, load: () => Promise<T>): Promise<T> {
  if (ttlMs <= 0) return load();

  const entry = entries.get(key);
  if (entry && entry.expiresAtMs > nowMs) return entry.value as Promise<T>;

  const value = load();
  entries.set(key, { expiresAtMs: nowMs + ttlMs, value });
  value.catch(() => {
    if (entries.get(key)?.value === value) entries.delete(key);
  });
  return value;
}

/** Drops every cached snapshot; called after each write to channel inputs. */
export function invalidateSnapshots(): void {
  entries.clear();
}
