/**
 * Small named values in the `settings` table.
 *
 * | key                        | value                                              |
 * |----------------------------|----------------------------------------------------|
 * | etag:releases              | ETag of the releases API's first page              |
 * | etag:install-script        | ETag of the upstream installer script              |
 */
export const SETTING_RELEASES_ETAG = "etag:releases";
export const SETTING_INSTALL_SCRIPT_ETAG = "etag:install-script";

export async function getSetting(db: D1Database, key: string): Promise<string | null> {
  const row = await db.prepare("SELECT value FROM settings WHERE key = ?").bind(key).first<{ value: unknown }>();
  return typeof row?.value === "string" ? row.value : null;
}

/** Builds the statement that stores a setting; run it in the batch of the change it belongs to. */
export function putSettingStatement(db: D1Database, key: string, value: string, now: string): D1PreparedStatement {
  return db
    .prepare("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
    .bind(key, value, now);
}
