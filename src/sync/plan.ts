import type { Arch } from "../config";
import type { FileRow } from "../storage/files";
import { compareK3sVersions, parseVersion, type ParsedVersion } from "../versions";
import { binaryName, checksumFileName, isChecksumFile, requiredFiles } from "./files";
import type { GitHubAsset } from "./upstream-schemas";

/** Mirror selection settings (config.mirror). */
export type MirrorSelection = { arches: readonly Arch[]; oldestMinor: number; patchesPerMinor: number; airgap: boolean };

export type ReleaseListing = { version: string; prerelease: boolean; draft: boolean; assets: readonly GitHubAsset[] };

/**
 * Chooses the versions to mirror: every version an upstream channel points at, plus the
 * newest `patchesPerMinor` patch releases (newest K3s build of each) of every minor from
 * `oldestMinor` on. Drafts and prereleases count only when a channel points at them.
 * Returns canonical versions, channel targets first, then newest first.
 */
export function selectVersions(releases: readonly ReleaseListing[], channelTargets: readonly (string | null)[], selection: MirrorSelection): string[] {
  const chosen: string[] = [];
  const add = (version: string) => {
    if (!chosen.includes(version)) chosen.push(version);
  };

  const targets = channelTargets.filter((target): target is string => target !== null && parseVersion(target) !== null);
  for (const target of sortNewestFirst(targets)) add(target);

  const byPatch = new Map<string, ParsedVersion>();
  for (const release of releases) {
    if (release.draft || release.prerelease) continue;
    const parsed = parseVersion(release.version);
    if (!parsed || parsed.prerelease !== null || parsed.major !== 1 || parsed.minor < selection.oldestMinor) continue;
    const patchKey = `${parsed.major}.${parsed.minor}.${parsed.patch}`;
    const current = byPatch.get(patchKey);
    if (!current || compareK3sVersions(parsed, current) > 0) byPatch.set(patchKey, parsed);
  }

  const byMinor = new Map<number, ParsedVersion[]>();
  for (const parsed of byPatch.values()) byMinor.set(parsed.minor, [...(byMinor.get(parsed.minor) ?? []), parsed]);
  const newest: string[] = [];
  for (const versions of byMinor.values()) {
    versions.sort((a, b) => compareK3sVersions(b, a));
    newest.push(...versions.slice(0, selection.patchesPerMinor).map((version) => version.raw));
  }
  for (const version of sortNewestFirst(newest)) add(version);
  return chosen;
}

function sortNewestFirst(versions: readonly string[]): string[] {
  return [...versions].sort((a, b) => compareK3sVersions(parseVersion(b)!, parseVersion(a)!));
}

/** Reason a required file is not verified yet. */
export type MissingReason = "not-uploaded" | "release-unknown" | "awaiting-checksum-file" | "not-downloaded" | "retry-scheduled" | "failed";

export type MissingFile = { name: string; reason: MissingReason; file: FileRow | null };

/** One architecture of one version: published, complete (ready to publish), or what is missing. */
export type ArchPlan = {
  arch: Arch;
  required: string[];
  complete: boolean;
  missing: MissingFile[];
};

/** A file to download in this step. */
export type WorkItem = {
  version: string;
  name: string;
  arch: Arch | "all";
  asset: GitHubAsset;
  /** Hash from the verified checksum file; null for the checksum file itself. */
  expectedSha256: string | null;
  attempts: number;
};

export type VersionPlanInput = {
  version: string;
  release: ReleaseListing | null;
  arches: readonly Arch[];
  airgap: boolean;
  /** Verified checksum file entries per architecture, `name -> sha256`. */
  checksums: ReadonlyMap<string, ReadonlyMap<string, string>>;
  files: ReadonlyMap<string, FileRow>;
  now: string;
  /** Fetch failed files now, ignoring their retry time. */
  retryNow: boolean;
};

/**
 * Decides, for one version, what each architecture still needs and which files can be
 * fetched now. A file other than a checksum file waits until its architecture's checksum
 * file is verified, because that is what it is checked against.
 */
export function planVersion(input: VersionPlanInput): { arches: ArchPlan[]; work: WorkItem[] } {
  const assets = new Map((input.release?.assets ?? []).map((asset) => [asset.name, asset]));
  const work = new Map<string, WorkItem>();
  const arches: ArchPlan[] = [];

  for (const arch of input.arches) {
    const entries = input.checksums.get(arch) ?? null;
    const listed = entries ? [...entries.keys()] : [...assets.keys()];
    const required = requiredFiles(arch, input.airgap, listed);
    const missing: MissingFile[] = [];

    for (const name of required) {
      const file = input.files.get(name) ?? null;
      if (file?.state === "verified") continue;

      const asset = assets.get(name);
      if (!asset) {
        missing.push({ name, reason: input.release ? "not-uploaded" : "release-unknown", file });
        continue;
      }
      const checksumFile = isChecksumFile(name);
      const expected = checksumFile ? null : (entries?.get(name) ?? null);
      if (!checksumFile && !entries) {
        missing.push({ name, reason: "awaiting-checksum-file", file });
        continue;
      }
      if (file?.state === "failed" && !input.retryNow && file.nextAttemptAt !== null && file.nextAttemptAt > input.now) {
        missing.push({ name, reason: "retry-scheduled", file });
        continue;
      }
      missing.push({ name, reason: file?.state === "failed" ? "failed" : "not-downloaded", file });
      if (!work.has(name)) {
        work.set(name, { version: input.version, name, arch: name === binaryName(arch) || name === checksumFileName(arch) ? arch : fileArch(name, arch), asset, expectedSha256: expected, attempts: file?.attempts ?? 0 });
      }
    }
    arches.push({ arch, required, complete: missing.length === 0, missing });
  }

  // Checksum files first: every other file of their architecture waits for them.
  const ordered = [...work.values()].sort((a, b) => Number(isChecksumFile(b.name)) - Number(isChecksumFile(a.name)));
  return { arches, work: ordered };
}

function fileArch(name: string, arch: Arch): Arch | "all" {
  return name === "k3s-images.txt" ? "all" : arch;
}
