import type { Arch, Config } from "../config";
import { listPublishedVersions } from "../storage/publications";
import { listReleases } from "../storage/releases";

/**
 * Lists the versions an explicit install may pin for an architecture: the published
 * ones, or with CHANNEL_GATE=known every non-draft release in the `releases` table, as the
 * channels offer them.
 */
export async function listOfferedVersions(db: D1Database, config: Config, arch: Arch): Promise<Set<string>> {
  if (config.channelGate === "known") return new Set((await listReleases(db)).map((release) => release.version));
  return listPublishedVersions(db, arch);
}
