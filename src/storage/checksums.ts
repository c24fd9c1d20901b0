import { z } from "zod";

const ChecksumRow = z.object({ version: z.string(), arch: z.string(), name: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

/** Reads the verified checksum entries of some versions, as `version -> arch -> name -> sha256`. */
export async function listChecksums(db: D1Database, versions: readonly string[]): Promise<Map<string, Map<string, Map<string, string>>>> {
  const byVersion = new Map<string, Map<string, Map<string, string>>>();
  // D1 binds at most 100 parameters per statement.
  for (let start = 0; start < versions.length; start += 90) {
    const slice = versions.slice(start, start + 90);
    const { results } = await db
      .prepare(`SELECT version, arch, name, sha256 FROM checksums WHERE version IN (${slice.map(() => "?").join(", ")})`)
      .bind(...slice)
      .all();
    for (const row of results) {
      const parsed = ChecksumRow.parse(row);
      const arches = byVersion.get(parsed.version) ?? new Map<string, Map<string, string>>();
      const entries = arches.get(parsed.arch) ?? new Map<string, string>();
      entries.set(parsed.name, parsed.sha256);
      arches.set(parsed.arch, entries);
      byVersion.set(parsed.version, arches);
    }
  }
  return byVersion;
}

/** Builds the statements that replace the entries of one checksum file; run them in one batch. */
export function replaceChecksumsStatements(db: D1Database, version: string, arch: string, entries: ReadonlyMap<string, string>): D1PreparedStatement[] {
  const insert = db.prepare("INSERT INTO checksums (version, arch, name, sha256) VALUES (?, ?, ?, ?)");
  return [
    db.prepare("DELETE FROM checksums WHERE version = ? AND arch = ?").bind(version, arch),
    ...[...entries].map(([name, sha256]) => insert.bind(version, arch, name, sha256)),
  ];
}
