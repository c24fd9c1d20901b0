import { z } from "zod";

/** State of a release file: not yet fetched, verified, or rejected and waiting for a retry. */
export const FileState = z.enum(["pending", "verified", "failed"]);
export type FileState = z.infer<typeof FileState>;

const FileRowSchema = z.object({
  version: z.string(),
  name: z.string(),
  arch: z.string(),
  state: FileState,
  size: z.number().nullable(),
  sha256: z.string().nullable(),
  expected_sha256: z.string().nullable(),
  actual_sha256: z.string().nullable(),
  error: z.string().nullable(),
  attempts: z.number(),
  next_attempt_at: z.string().nullable(),
  verified_at: z.string().nullable(),
  updated_at: z.string(),
  object_key: z.string().nullable(),
  origin: z.enum(["upstream", "import"]),
});

/** One row of `files`: a release file the mirror tracks, and the R2 object it serves once verified. */
export type FileRow = {
  version: string;
  name: string;
  arch: string;
  state: FileState;
  size: number | null;
  sha256: string | null;
  expectedSha256: string | null;
  actualSha256: string | null;
  error: string | null;
  attempts: number;
  nextAttemptAt: string | null;
  verifiedAt: string | null;
  updatedAt: string;
  objectKey: string | null;
  origin: "upstream" | "import";
};

function toFileRow(row: unknown): FileRow {
  const parsed = FileRowSchema.parse(row);
  return {
    version: parsed.version,
    name: parsed.name,
    arch: parsed.arch,
    state: parsed.state,
    size: parsed.size,
    sha256: parsed.sha256,
    expectedSha256: parsed.expected_sha256,
    actualSha256: parsed.actual_sha256,
    error: parsed.error,
    attempts: parsed.attempts,
    nextAttemptAt: parsed.next_attempt_at,
    verifiedAt: parsed.verified_at,
    updatedAt: parsed.updated_at,
    objectKey: parsed.object_key,
    origin: parsed.origin,
  };
}

export async function getFile(db: D1Database, version: string, name: string): Promise<FileRow | null> {
  const row = await db.prepare("SELECT * FROM files WHERE version = ? AND name = ?").bind(version, name).first();
  return row ? toFileRow(row) : null;
}

/** Lists the tracked files of one version, by name. */
export async function listFilesOfVersion(db: D1Database, version: string): Promise<FileRow[]> {
  const { results } = await db.prepare("SELECT * FROM files WHERE version = ? ORDER BY name").bind(version).all();
  return results.map(toFileRow);
}

/** Lists every tracked file, grouped by version. */
export async function listAllFiles(db: D1Database): Promise<FileRow[]> {
  const { results } = await db.prepare("SELECT * FROM files ORDER BY version, name").all();
  return results.map(toFileRow);
}

/** Lists every verified file, for export. */
export async function listVerifiedFiles(db: D1Database): Promise<FileRow[]> {
  const { results } = await db.prepare("SELECT * FROM files WHERE state = 'verified' ORDER BY version, name").all();
  return results.map(toFileRow);
}

export type VerifiedFile = {
  version: string;
  name: string;
  arch: string;
  size: number;
  sha256: string;
  objectKey: string;
  origin: "upstream" | "import";
};

/**
 * Builds the statement that marks a file verified and points it at its R2 object,
 * clearing the record of earlier failures.
 */
export function fileVerifiedStatement(db: D1Database, file: VerifiedFile, now: string): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO files (version, name, arch, state, size, sha256, expected_sha256, actual_sha256, error, attempts, next_attempt_at, verified_at, updated_at, object_key, origin)
       VALUES (?, ?, ?, 'verified', ?, ?, ?, ?, NULL, 1, NULL, ?, ?, ?, ?)
       ON CONFLICT (version, name) DO UPDATE SET arch = excluded.arch, state = 'verified', size = excluded.size, sha256 = excluded.sha256,
         expected_sha256 = excluded.expected_sha256, actual_sha256 = excluded.actual_sha256, error = NULL, attempts = files.attempts + 1,
         next_attempt_at = NULL, verified_at = excluded.verified_at, updated_at = excluded.updated_at, object_key = excluded.object_key, origin = excluded.origin`,
    )
    .bind(file.version, file.name, file.arch, file.size, file.sha256, file.sha256, file.sha256, now, now, file.objectKey, file.origin);
}

export type FailedAttempt = {
  version: string;
  name: string;
  arch: string;
  error: string;
  expectedSha256: string | null;
  actualSha256: string | null;
  nextAttemptAt: string;
  origin: "upstream" | "import";
};

/**
 * Records a failed attempt. A file verified before keeps its state and object: the
 * failure is only noted, so a bad retry never takes a good file away.
 */
export async function markFileFailed(db: D1Database, attempt: FailedAttempt, now: string): Promise<void> {
  await db
    .prepare(
      `INSERT INTO files (version, name, arch, state, expected_sha256, actual_sha256, error, attempts, next_attempt_at, updated_at, origin)
       VALUES (?, ?, ?, 'failed', ?, ?, ?, 1, ?, ?, ?)
       ON CONFLICT (version, name) DO UPDATE SET
         state = CASE WHEN files.state = 'verified' THEN 'verified' ELSE 'failed' END,
         expected_sha256 = CASE WHEN files.state = 'verified' THEN files.expected_sha256 ELSE excluded.expected_sha256 END,
         actual_sha256 = CASE WHEN files.state = 'verified' THEN files.actual_sha256 ELSE excluded.actual_sha256 END,
         error = excluded.error, attempts = files.attempts + 1, next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at`,
    )
    .bind(attempt.version, attempt.name, attempt.arch, attempt.expectedSha256, attempt.actualSha256, attempt.error, attempt.nextAttemptAt, now, attempt.origin)
    .run();
}
