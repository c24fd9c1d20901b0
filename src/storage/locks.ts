/**
 * Leases in the `locks` table. A lease has a holder and an expiry, so a step that dies
 * without releasing its lease blocks others only until the lease expires.
 */

/**
 * Takes the lease `name` for `holder` until `expiresAt` when it is free or expired.
 * Returns whether `holder` now holds it, and when the current lease ends.
 */
export async function acquireLock(db: D1Database, name: string, holder: string, now: string, expiresAt: string): Promise<{ acquired: boolean; holder: string; expiresAt: string }> {
  await db
    .prepare(
      `INSERT INTO locks (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at WHERE locks.expires_at <= ?`,
    )
    .bind(name, holder, expiresAt, now)
    .run();
  const row = await db.prepare("SELECT holder, expires_at FROM locks WHERE name = ?").bind(name).first<{ holder: string; expires_at: string }>();
  if (!row) return { acquired: false, holder: "(none)", expiresAt: now };
  return { acquired: row.holder === holder, holder: row.holder, expiresAt: row.expires_at };
}

/** Extends a lease the holder still holds. Returns false when the lease was lost. */
export async function renewLock(db: D1Database, name: string, holder: string, expiresAt: string): Promise<boolean> {
  const result = await db.prepare("UPDATE locks SET expires_at = ? WHERE name = ? AND holder = ?").bind(expiresAt, name, holder).run();
  return (result.meta.changes ?? 0) > 0;
}

/** Releases a lease if `holder` still holds it. */
export async function releaseLock(db: D1Database, name: string, holder: string): Promise<void> {
  await db.prepare("DELETE FROM locks WHERE name = ? AND holder = ?").bind(name, holder).run();
}
