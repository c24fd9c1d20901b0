import type { Config } from "../config";
import { listUpstreamChannels } from "../storage/channels";
import { listChecksums } from "../storage/checksums";
import { listAllFiles, type FileRow } from "../storage/files";
import { listPublications, publishStatement } from "../storage/publications";
import { listReleases } from "../storage/releases";
import { planVersion, selectVersions, type ArchPlan, type ReleaseListing, type WorkItem } from "./plan";

export type VersionState = {
  version: string;
  /** Whether the mirror's selection (channel targets, newest patches) includes it. */
  selected: boolean;
  release: ReleaseListing | null;
  arches: (ArchPlan & { publishedAt: string | null })[];
  work: WorkItem[];
};

/**
 * Reads the mirror's stored state and plans every version it tracks: the selected versions,
 * plus any version with files or publications (from imports or an earlier selection).
 */
export async function loadMirrorState(db: D1Database, config: Config, now: string, retryNow: boolean, onlyVersion?: string): Promise<VersionState[]> {
  const [releases, upstream, files, publications] = await Promise.all([listReleases(db), listUpstreamChannels(db), listAllFiles(db), listPublications(db)]);
  const listings = new Map<string, ReleaseListing>(releases.map((release) => [release.version, release]));

  const selected = selectVersions(releases, upstream.map((row) => row.latest), config.mirror);
  const tracked = [...selected];
  for (const version of [...new Set([...files.map((file) => file.version), ...publications.keys()])].sort().reverse()) {
    if (!tracked.includes(version)) tracked.push(version);
  }
  const versions = onlyVersion === undefined ? tracked : [onlyVersion];

  const filesByVersion = new Map<string, Map<string, FileRow>>();
  for (const file of files) {
    const byName = filesByVersion.get(file.version) ?? new Map<string, FileRow>();
    byName.set(file.name, file);
    filesByVersion.set(file.version, byName);
  }
  const checksums = await listChecksums(db, versions);

  return versions.map((version) => {
    const plan = planVersion({
      version,
      release: listings.get(version) ?? null,
      arches: config.mirror.arches,
      airgap: config.mirror.airgap,
      checksums: checksums.get(version) ?? new Map(),
      files: filesByVersion.get(version) ?? new Map(),
      now,
      retryNow,
    });
    const published = publications.get(version);
    return {
      version,
      selected: selected.includes(version),
      release: listings.get(version) ?? null,
      arches: plan.arches.map((arch) => ({ ...arch, publishedAt: published?.get(arch.arch) ?? null })),
      work: plan.work,
    };
  });
}

/**
 * Publishes every architecture whose required files are all verified. Returns the new
 * publications; a publication is never withdrawn here.
 */
export async function publishComplete(db: D1Database, states: readonly VersionState[], now: string): Promise<{ version: string; arch: string }[]> {
  const fresh = states.flatMap((state) => state.arches.filter((arch) => arch.complete && arch.publishedAt === null).map((arch) => ({ version: state.version, arch: arch.arch })));
  if (fresh.length > 0) await db.batch(fresh.map((publication) => publishStatement(db, publication.version, publication.arch, now)));
  return fresh;
}
