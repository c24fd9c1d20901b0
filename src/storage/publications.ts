import type { Arch } from "../config";

/** Lists the versions published for an architecture. */
export async function listPublishedVersions(db: D1Database, arch: Arch): Promise<Set<string>> {
  const { results } = await db.prepare("SELECT version FROM publications WHERE arch = ?").bind(arch).all<{ version: string }>();
  return new Set(results.map((row) => row.version));
}

/** Lists every publication, as `version -> arch -> published_at`. */
export async function listPublications(db: D1Database): Promise<Map<string, Map<string, string>>> {
  const { results } = await db.prepare("SELECT version, arch, published_at FROM publications").all<{ version: string; arch: string; published_at: string }>();
  const byVersion = new Map<string, Map<string, string>>();
  for (const row of results) {
    const arches = byVersion.get(row.version) ?? new Map<string, string>();
    arches.set(row.arch, row.published_at);
    byVersion.set(row.version, arches);
  }
  return byVersion;
}

/** Builds the statement that publishes a version for an architecture; publishing twice keeps the first time. */
export function publishStatement(db: D1Database, version: string, arch: string, now: string): D1PreparedStatement {
  return db.prepare("INSERT INTO publications (version, arch, published_at) VALUES (?, ?, ?) ON CONFLICT (version, arch) DO NOTHING").bind(version, arch, now);
}
