import { z } from "zod";

const InstallScriptRow = z.object({
  sha256: z.string(),
  size: z.number(),
  source_url: z.string(),
  first_seen_at: z.string(),
  last_seen_at: z.string(),
});

/** An upstream installer script the mirror has seen; its text is in R2 under installScriptKey(sha256). */
export type InstallScriptRecord = { sha256: string; size: number; sourceUrl: string; firstSeenAt: string; lastSeenAt: string };

function toRecord(row: unknown): InstallScriptRecord {
  const parsed = InstallScriptRow.parse(row);
  return { sha256: parsed.sha256, size: parsed.size, sourceUrl: parsed.source_url, firstSeenAt: parsed.first_seen_at, lastSeenAt: parsed.last_seen_at };
}

/** Records a sighting of an installer script: a new row for new text, else a later `last_seen_at`. */
export async function recordInstallScript(db: D1Database, script: { sha256: string; size: number; sourceUrl: string }, now: string): Promise<void> {
  await db
    .prepare(
      `INSERT INTO install_scripts (sha256, size, source_url, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (sha256) DO UPDATE SET last_seen_at = excluded.last_seen_at, source_url = excluded.source_url`,
    )
    .bind(script.sha256, script.size, script.sourceUrl, now, now)
    .run();
}

/** Returns the installer script seen most recently, or null before the first sync. */
export async function getCurrentInstallScript(db: D1Database): Promise<InstallScriptRecord | null> {
  const row = await db.prepare("SELECT * FROM install_scripts ORDER BY last_seen_at DESC, first_seen_at DESC LIMIT 1").first();
  return row ? toRecord(row) : null;
}

/** Tells whether an installer script with this SHA-256 was seen before. */
export async function hasInstallScript(db: D1Database, sha256: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 FROM install_scripts WHERE sha256 = ?").bind(sha256).first()) !== null;
}
