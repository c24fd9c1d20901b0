import type { Arch } from "../config";

/** Lists the versions published for an architecture. */
export async function listPublishedVersions(db: D1Database, arch: Arch): Promise<Set<string>> {
  const { results } = await db.prepare("SELECT version FROM publications WHERE arch = ?").bind(arch).all<{ version: string }>();
  return new Set(results.map((row) => row.version));
}
