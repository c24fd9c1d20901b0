import { refreshChannelStates } from "../channels/service";
import type { Config } from "../config";
import { HttpError } from "../errors";
import { listChecksums } from "../storage/checksums";
import { getFile } from "../storage/files";
import { getRelease, upsertReleaseStatements } from "../storage/releases";
import { canonicalVersion, parseVersion } from "../versions";
import { readAtMost } from "./bounded-read";
import { MAX_CHECKSUM_FILE_BYTES } from "./checksums";
import { archOfFile, isChecksumFile } from "./files";
import { loadMirrorState, publishComplete } from "./state";
import type { GitHubRelease } from "./upstream-schemas";
import { storeAndVerifyChecksumFile, storeAndVerifyFile, type VerifyOutcome } from "./verify";
import type { Arch } from "../config";

export type ImportResult = { version: string; file: string; outcome: VerifyOutcome; published: { version: string; arch: string }[] };

/**
 * Imports one release file uploaded by an operator (air-gapped seeding), verified
 * exactly as sync verifies a download: a checksum file must parse and list its
 * binary, and any other file must match the entry of an already imported checksum
 * file. Architectures whose files are then all verified are published.
 *
 * `logStatement` builds the admin log entry for the outcome. It runs in the same batch
 * as the release's asset list, right after verification, so a later failure (publishing,
 * channel refresh) cannot leave a stored file without its log entry.
 */
export async function importReleaseFile(
  db: D1Database,
  bucket: R2Bucket,
  config: Config,
  input: { version: string; file: string; body: ReadableStream<Uint8Array>; size: number },
  now: string,
  logStatement: (outcome: VerifyOutcome) => D1PreparedStatement,
): Promise<ImportResult> {
  const version = canonicalVersion(input.version);
  if (!version) throw new HttpError(400, `"${input.version.slice(0, 80)}" is not a K3s version; expected a directory name like v1.33.6+k3s1`);
  const arch = archOfFile(input.file);
  if (!arch) {
    throw new HttpError(400, `"${input.file.slice(0, 80)}" is not a release file the mirror tracks; expected k3s, k3s-arm64, k3s-armhf, k3s-s390x, sha256sum-<arch>.txt, k3s-images.txt or k3s-airgap-images-<arch>.tar[.gz|.zst]`);
  }

  const context = { db, bucket, now, origin: "import" as const };
  const existing = await getFile(db, version, input.file);
  const identity = { version, name: input.file, arch, attempts: existing?.attempts ?? 0 };

  let outcome: VerifyOutcome;
  if (isChecksumFile(input.file)) {
    if (input.size > MAX_CHECKSUM_FILE_BYTES) throw new HttpError(413, `${input.file} is ${input.size} bytes; a checksum file may have at most ${MAX_CHECKSUM_FILE_BYTES}`);
    const bytes = await readAtMost(input.body, MAX_CHECKSUM_FILE_BYTES);
    if (bytes === null) throw new HttpError(413, `${input.file} sent more than ${MAX_CHECKSUM_FILE_BYTES} bytes; a checksum file may have at most ${MAX_CHECKSUM_FILE_BYTES}`);
    outcome = await storeAndVerifyChecksumFile(context, { ...identity, arch: arch as Arch }, bytes, { size: input.size, digest: null });
  } else {
    const checksums = (await listChecksums(db, [version])).get(version);
    const listing = arch === "all" ? [...(checksums?.values() ?? [])].find((entries) => entries.has(input.file)) : checksums?.get(arch);
    if (!listing) {
      await input.body.cancel();
      const needed = arch === "all" ? "a sha256sum-<arch>.txt that lists it" : `sha256sum-${arch}.txt`;
      throw new HttpError(409, `${version}/${input.file} cannot be verified yet; import ${needed} for ${version} first`, "ChecksumFileMissing");
    }
    outcome = await storeAndVerifyFile(context, identity, input.body, input.size, { checksum: listing.get(input.file) ?? null, digest: null });
  }

  await db.batch([...(await importedAssetStatements(db, version, input.file, input.size, now)), logStatement(outcome)]);
  const published = await publishComplete(db, await loadMirrorState(db, config, now, false, version), now);
  if (published.length > 0 || outcome.ok) await refreshChannelStates(db, config, now);
  return { version, file: input.file, outcome, published };
}

/**
 * Builds the statements that list an imported file among its release's assets, creating
 * the release when the mirror has never seen it, so the publish gate and channels know
 * it exists. Returns no statement when the file is already listed.
 */
async function importedAssetStatements(db: D1Database, version: string, file: string, size: number, now: string): Promise<D1PreparedStatement[]> {
  const existing = await getRelease(db, version);
  if (existing?.assets.some((asset) => asset.name === file)) return [];
  const release: GitHubRelease = {
    tag_name: version,
    prerelease: parseVersion(version)?.prerelease !== null,
    draft: false,
    published_at: existing?.publishedAt ?? now,
    assets: [
      ...(existing?.assets ?? []),
      { name: file, size, browser_download_url: `https://github.com/k3s-io/k3s/releases/download/${encodeURIComponent(version)}/${file}`, digest: null },
    ],
  };
  return upsertReleaseStatements(db, [release], existing?.origin ?? "import", now);
}
