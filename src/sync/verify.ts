import type { Arch } from "../config";
import { replaceChecksumsStatements } from "../storage/checksums";
import { fileVerifiedStatement, markFileFailed } from "../storage/files";
import { releaseFilePrefix, releaseUploadKey } from "../storage/keys";
import { nextAttemptAt } from "./backoff";
import { parseChecksumFile } from "./checksums";
import { binaryName } from "./files";
import { sha256Hex, streamIntoR2, TransferError } from "./transfer";

/** Reason a file was rejected. `transient` failures (network, 5xx) tell nothing about the file itself. */
export type RejectionKind = "mismatch" | "html" | "size" | "invalid-checksum-file" | "not-listed" | "digest-conflict" | "transient";

export type VerifyOutcome =
  | { ok: true; sha256: string; size: number }
  | { ok: false; kind: RejectionKind; reason: string; expectedSha256: string | null; actualSha256: string | null; retryAt: string };

export type VerifyContext = { db: D1Database; bucket: R2Bucket; now: string; origin: "upstream" | "import" };

export type FileIdentity = { version: string; name: string; arch: Arch | "all"; attempts: number };

/**
 * Streams a release file into a fresh R2 key and verifies its SHA-256 against the
 * checksum file's entry and, when known, GitHub's `digest`. Only a verified upload is
 * recorded in `files`; a rejected one is deleted and its expected and actual hashes
 * are recorded with a retry time. A file verified earlier keeps serving either way.
 */
export async function storeAndVerifyFile(
  context: VerifyContext,
  file: FileIdentity,
  body: ReadableStream<Uint8Array>,
  size: number,
  expected: { checksum: string | null; digest: string | null },
  onChunk?: (bytes: number) => void,
): Promise<VerifyOutcome> {
  if (expected.checksum === null) {
    return reject(context, file, "not-listed", `${file.name} is not listed in the checksum file of its architecture`, null, null, body);
  }
  if (expected.digest !== null && expected.digest !== expected.checksum) {
    return reject(context, file, "digest-conflict", `GitHub's digest ${expected.digest} differs from the checksum file's ${expected.checksum}`, expected.checksum, expected.digest, body);
  }

  const key = releaseUploadKey(file.version, file.name, crypto.randomUUID());
  let actual: string;
  try {
    actual = await streamIntoR2(context.bucket, key, body, size, { onChunk });
  } catch (error) {
    if (error instanceof TransferError) return reject(context, file, error.reason, error.message, expected.checksum, null);
    return reject(context, file, "transient", `download failed: ${error instanceof Error ? error.message : String(error)}`, expected.checksum, null);
  }

  if (actual !== expected.checksum) {
    await context.bucket.delete(key);
    return reject(context, file, "mismatch", `SHA-256 mismatch: expected ${expected.checksum}, got ${actual}`, expected.checksum, actual);
  }

  await context.db.batch([fileVerifiedStatement(context.db, { ...file, size, sha256: actual, objectKey: key, origin: context.origin }, context.now)]);
  await removeOtherUploads(context.bucket, file.version, file.name, key);
  return { ok: true, sha256: actual, size };
}

/**
 * Verifies a checksum file (`sha256sum-<arch>.txt`) given as text, stores it, and
 * records its entries, which every other file of the architecture is checked against.
 * The file must parse as sha256sum output, list the architecture's binary, have the
 * announced size and match GitHub's `digest` when known.
 */
export async function storeAndVerifyChecksumFile(
  context: VerifyContext,
  file: FileIdentity & { arch: Arch },
  bytes: Uint8Array,
  expected: { size: number | null; digest: string | null },
): Promise<VerifyOutcome> {
  const actual = await sha256Hex(bytes);
  if (expected.size !== null && bytes.byteLength !== expected.size) {
    return reject(context, file, "size", `checksum file has ${bytes.byteLength} bytes, expected ${expected.size}`, expected.digest, actual);
  }
  if (expected.digest !== null && actual !== expected.digest) {
    return reject(context, file, "mismatch", `SHA-256 mismatch: expected ${expected.digest}, got ${actual}`, expected.digest, actual);
  }

  const parsed = parseChecksumFile(new TextDecoder().decode(bytes));
  if (!parsed.ok) {
    return reject(context, file, parsed.reason === "html" ? "html" : "invalid-checksum-file", parsed.message, expected.digest, actual);
  }
  const binary = binaryName(file.arch);
  if (!parsed.entries.has(binary)) {
    return reject(context, file, "invalid-checksum-file", `the checksum file does not list ${binary}`, expected.digest, actual);
  }

  const key = releaseUploadKey(file.version, file.name, crypto.randomUUID());
  await context.bucket.put(key, bytes, { sha256: actual, httpMetadata: { contentType: "text/plain; charset=utf-8" } });
  await context.db.batch([
    ...replaceChecksumsStatements(context.db, file.version, file.arch, parsed.entries),
    fileVerifiedStatement(context.db, { ...file, size: bytes.byteLength, sha256: actual, objectKey: key, origin: context.origin }, context.now),
  ]);
  await removeOtherUploads(context.bucket, file.version, file.name, key);
  return { ok: true, sha256: actual, size: bytes.byteLength };
}

/** Records a failed attempt without downloading, for faults seen before the body (5xx, HTML, wrong length). */
export async function recordRejection(
  context: VerifyContext,
  file: FileIdentity,
  kind: RejectionKind,
  reason: string,
  expectedSha256: string | null,
): Promise<VerifyOutcome> {
  return reject(context, file, kind, reason, expectedSha256, null);
}

async function reject(
  context: VerifyContext,
  file: FileIdentity,
  kind: RejectionKind,
  reason: string,
  expectedSha256: string | null,
  actualSha256: string | null,
  unreadBody?: ReadableStream<Uint8Array>,
): Promise<VerifyOutcome> {
  await unreadBody?.cancel().catch(() => undefined);
  const retryAt = nextAttemptAt(file.attempts + 1, context.now);
  await markFileFailed(
    context.db,
    { version: file.version, name: file.name, arch: file.arch, error: reason, expectedSha256, actualSha256, nextAttemptAt: retryAt, origin: context.origin },
    context.now,
  );
  return { ok: false, kind, reason, expectedSha256, actualSha256, retryAt };
}

/** Deletes uploads of a file other than the one now verified, left by failed or interrupted attempts. */
async function removeOtherUploads(bucket: R2Bucket, version: string, name: string, keep: string): Promise<void> {
  const listing = await bucket.list({ prefix: releaseFilePrefix(version, name), limit: 100 });
  const stale = listing.objects.map((object) => object.key).filter((key) => key !== keep);
  if (stale.length > 0) await bucket.delete(stale);
}
