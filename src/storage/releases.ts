import { z } from "zod";
import type { ReleaseFacts } from "../channels/resolve";
import { GitHubAsset, type GitHubRelease } from "../sync/upstream-schemas";

const ReleaseRow = z.object({
  version: z.string(),
  prerelease: z.number(),
  draft: z.number(),
  published_at: z.string().nullable(),
  assets: z.string(),
  origin: z.enum(["upstream", "import"]),
  updated_at: z.string(),
});

export type StoredRelease = ReleaseFacts & {
  readonly draft: boolean;
  readonly assets: GitHubAsset[];
  readonly origin: "upstream" | "import";
  readonly updatedAt: string;
};

function toStoredRelease(row: unknown): StoredRelease {
  const parsed = ReleaseRow.parse(row);
  return {
    version: parsed.version,
    prerelease: parsed.prerelease === 1,
    draft: parsed.draft === 1,
    publishedAt: parsed.published_at,
    assets: z.array(GitHubAsset).parse(JSON.parse(parsed.assets)),
    origin: parsed.origin,
    updatedAt: parsed.updated_at,
  };
}

/** Lists known releases, drafts excluded, newest first. */
export async function listReleases(db: D1Database): Promise<StoredRelease[]> {
  const { results } = await db.prepare("SELECT * FROM releases WHERE draft = 0 ORDER BY published_at DESC, version DESC").all();
  return results.map(toStoredRelease);
}

export async function getRelease(db: D1Database, version: string): Promise<StoredRelease | null> {
  const row = await db.prepare("SELECT * FROM releases WHERE version = ?").bind(version).first();
  return row ? toStoredRelease(row) : null;
}

/** Builds the statements that upsert releases; the caller runs them in one batch. */
export function upsertReleaseStatements(db: D1Database, releases: readonly GitHubRelease[], origin: "upstream" | "import", now: string): D1PreparedStatement[] {
  const statement = db.prepare(
    `INSERT INTO releases (version, prerelease, draft, published_at, assets, origin, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (version) DO UPDATE SET prerelease = excluded.prerelease, draft = excluded.draft,
       published_at = excluded.published_at, assets = excluded.assets, origin = excluded.origin, updated_at = excluded.updated_at`,
  );
  return releases.map((release) =>
    statement.bind(
      release.tag_name,
      release.prerelease ? 1 : 0,
      release.draft ? 1 : 0,
      release.published_at,
      JSON.stringify(
        release.assets.map((asset) => ({ name: asset.name, size: asset.size, browser_download_url: asset.browser_download_url, digest: asset.digest ?? null })),
      ),
      origin,
      now,
    ),
  );
}
