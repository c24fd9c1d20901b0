import { z } from "zod";
import { PolicyDocument } from "../policy/schema";

/** One stored policy revision; the one with the highest id is live. */
export type PolicyRevision = {
  readonly id: number;
  readonly author: string;
  readonly comment: string;
  readonly createdAt: string;
  /** The revision this one restored, for rollbacks. */
  readonly rollbackOf: number | null;
  readonly document: PolicyDocument;
};

export type PolicyRevisionSummary = Omit<PolicyRevision, "document">;

const PolicyRevisionRow = z.object({
  id: z.number().int(),
  document: z.string(),
  author: z.string(),
  comment: z.string(),
  created_at: z.string(),
  rollback_of: z.number().int().nullable(),
});

function toRevision(row: unknown): PolicyRevision {
  const parsed = PolicyRevisionRow.parse(row);
  return {
    id: parsed.id,
    author: parsed.author,
    comment: parsed.comment,
    createdAt: parsed.created_at,
    rollbackOf: parsed.rollback_of,
    document: PolicyDocument.parse(JSON.parse(parsed.document)),
  };
}

/** Returns the live policy revision, or null before the first one is stored. */
export async function getLivePolicyRevision(db: D1Database): Promise<PolicyRevision | null> {
  const row = await db.prepare("SELECT * FROM policy_revisions ORDER BY id DESC LIMIT 1").first();
  return row ? toRevision(row) : null;
}

export async function getPolicyRevision(db: D1Database, id: number): Promise<PolicyRevision | null> {
  const row = await db.prepare("SELECT * FROM policy_revisions WHERE id = ?").bind(id).first();
  return row ? toRevision(row) : null;
}

/** Lists revisions newest first, without their documents; `beforeId` pages back through older ones. */
export async function listPolicyRevisions(db: D1Database, limit: number, beforeId: number | null): Promise<PolicyRevisionSummary[]> {
  const statement =
    beforeId === null
      ? db.prepare("SELECT id, author, comment, created_at, rollback_of, '{}' AS document FROM policy_revisions ORDER BY id DESC LIMIT ?").bind(limit)
      : db.prepare("SELECT id, author, comment, created_at, rollback_of, '{}' AS document FROM policy_revisions WHERE id < ? ORDER BY id DESC LIMIT ?").bind(beforeId, limit);
  const { results } = await statement.all();
  return results.map((row) => {
    const { document: _empty, ...summary } = toRevision(row);
    return summary;
  });
}

/**
 * Builds the statement that stores a revision, and only when the live revision is still
 * `expectedLiveId` (null: no revision yet), so two concurrent changes cannot both be
 * based on the same live policy. Check `meta.changes` after the batch.
 */
export function insertPolicyRevisionStatement(
  db: D1Database,
  revision: { document: PolicyDocument; author: string; comment: string; createdAt: string; rollbackOf: number | null },
  expectedLiveId: number | null,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO policy_revisions (document, author, comment, created_at, rollback_of)
       SELECT ?, ?, ?, ?, ? WHERE (SELECT MAX(id) FROM policy_revisions) IS ?`,
    )
    .bind(JSON.stringify(revision.document), revision.author, revision.comment, revision.createdAt, revision.rollbackOf, expectedLiveId);
}

/**
 * Lists the versions channels may answer (published for `arch`, or every known release
 * when the gate is "known") and the versions whose release is marked pre-release.
 */
export async function listOfferableVersions(db: D1Database, arch: string, gate: "published" | "known"): Promise<{ offerable: Set<string>; prereleases: Set<string> }> {
  const offerableQuery =
    gate === "known" ? db.prepare("SELECT version FROM releases WHERE draft = 0") : db.prepare("SELECT version FROM publications WHERE arch = ?").bind(arch);
  const [offerable, prereleases] = await db.batch<{ version: string }>([offerableQuery, db.prepare("SELECT version FROM releases WHERE prerelease = 1")]);
  return {
    offerable: new Set(offerable!.results.map((row) => row.version)),
    prereleases: new Set(prereleases!.results.map((row) => row.version)),
  };
}

/**
 * Builds the admin log statement for a policy change. It follows the revision insert in
 * the same batch and writes only when that insert stored a row (`changes()` is 1), so a
 * change lost to a concurrent one leaves no log entry.
 */
export function policyAdminLogStatement(db: D1Database, label: string, action: string, detail: unknown, now: string): D1PreparedStatement {
  return db.prepare("INSERT INTO admin_log (at, label, action, detail) SELECT ?, ?, ?, ? WHERE changes() = 1").bind(now, label, action, JSON.stringify(detail));
}
