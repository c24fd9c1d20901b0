import type { Config } from "../config";
import { listChannelStates, listUpstreamChannels } from "../storage/channels";
import { getCurrentInstallScript } from "../storage/install-scripts";
import { getLastSyncRun } from "../storage/sync-runs";
import type { MissingReason } from "./plan";
import { loadMirrorState, type VersionState } from "./state";

/** One architecture of one version, as the status API reports it. */
export type ArchStatus = {
  arch: string;
  state: "published" | "pending" | "failed";
  publishedAt: string | null;
  /** Required files not verified yet, with the reason. */
  missing: { file: string; reason: MissingReason }[];
  failed: { file: string; error: string | null; expectedSha256: string | null; actualSha256: string | null; attempts: number; nextAttemptAt: string | null }[];
};

export type VersionStatus = { version: string; selected: boolean; knownUpstream: boolean; arches: ArchStatus[] };

/** Turns planned state into what the status API and the tag page show. */
export function describeVersion(state: VersionState): VersionStatus {
  return {
    version: state.version,
    selected: state.selected,
    knownUpstream: state.release !== null,
    arches: state.arches.map((arch) => {
      const failed = arch.missing
        .filter((missing) => missing.file?.state === "failed")
        .map((missing) => ({
          file: missing.name,
          error: missing.file!.error,
          expectedSha256: missing.file!.expectedSha256,
          actualSha256: missing.file!.actualSha256,
          attempts: missing.file!.attempts,
          nextAttemptAt: missing.file!.nextAttemptAt,
        }));
      let state: ArchStatus["state"] = "pending";
      if (failed.length > 0) state = "failed";
      if (arch.publishedAt !== null) state = "published";
      return {
        arch: arch.arch,
        state,
        publishedAt: arch.publishedAt,
        missing: arch.missing.map((missing) => ({ file: missing.name, reason: missing.reason })),
        failed,
      };
    }),
  };
}

/** One upstream channel compared with the mirror's channel of the same name, with the times each last changed. */
export type ChannelLag = {
  channel: string;
  upstream: string | null;
  mirror: string | null;
  lagging: boolean;
  /** When upstream's value last changed. */
  upstreamSince: string;
  /** When the mirror's value last changed. */
  mirrorSince: string | null;
};

/** Builds the body of `GET /api/v1/status`. */
export async function buildStatus(db: D1Database, config: Config, now: string) {
  const [states, lastRun, upstream, channels, installScript] = await Promise.all([
    loadMirrorState(db, config, now, false),
    getLastSyncRun(db),
    listUpstreamChannels(db),
    listChannelStates(db),
    getCurrentInstallScript(db),
  ]);

  const lag: ChannelLag[] = upstream.map((row) => {
    const mirror = channels.get(row.name) ?? null;
    return {
      channel: row.name,
      upstream: row.latest,
      mirror: mirror?.version ?? null,
      lagging: row.latest !== null && mirror !== null && mirror.version !== row.latest,
      upstreamSince: row.changed_at,
      mirrorSince: mirror?.since ?? null,
    };
  });

  return {
    generatedAt: now,
    arches: config.mirror.arches,
    airgap: config.mirror.airgap,
    lastSync: lastRun,
    channels: lag,
    installScript,
    versions: states.map(describeVersion),
  };
}
