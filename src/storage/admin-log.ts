/** Builds the statement that records an admin change; run it in the change's batch. */
export function adminLogStatement(db: D1Database, label: string, action: string, detail: unknown, now: string): D1PreparedStatement {
  return db.prepare("INSERT INTO admin_log (at, label, action, detail) VALUES (?, ?, ?, ?)").bind(now, label, action, JSON.stringify(detail));
}
