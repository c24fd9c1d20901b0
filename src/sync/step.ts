import { refreshChannelStates } from "../channels/service";
import type { Config } from "../config";
import { listUpstreamChannels } from "../storage/channels";
import { acquireLock, releaseLock, renewLock } from "../storage/locks";
import { upsertReleaseStatements } from "../storage/releases";
import { getSetting, putSettingStatement, SETTING_RELEASES_ETAG } from "../storage/settings";
import { finishSyncRun, startSyncRun, type SyncTrigger } from "../storage/sync-runs";
import { replaceUpstreamChannelsStatements } from "../storage/upstream-channels";
import { SubrequestBudget } from "./budget";
import { DOWNLOAD_SUBREQUESTS, downloadFile } from "./download";
import { isChecksumFile } from "./files";
import { syncInstallScript } from "./install-script";
import { loadMirrorState, publishComplete } from "./state";
import { BudgetExhausted, describeError, fetchReleasePages, fetchUpstreamChannels, UpstreamError } from "./upstream";

/** Name of the lease that keeps two sync steps apart. */
export const SYNC_LOCK_NAME = "sync";
/** A step's lease; renewed after every file, so only a step that died holds it this long. */
export const SYNC_LOCK_TTL_MS = 15 * 60_000;

export type StageResult = "updated" | "unchanged" | "failed" | "skipped";

/** One failure of a step: an upstream call, or a file that was rejected. */
export type SyncFailure = {
  stage: "channels" | "releases" | "install-script" | "download";
  reason: string;
  url?: string;
  version?: string;
  file?: string;
  expectedSha256?: string | null;
  actualSha256?: string | null;
  retryAt?: string;
};

/** Summary of one step. `done` is true when no file is left that could be fetched now. */
export type SyncSummary = {
  runId: number;
  trigger: SyncTrigger;
  startedAt: string;
  finishedAt: string;
  upstream: { channels: StageResult; releases: StageResult; installScript: StageResult };
  /** Versions and files the step planned over. */
  checked: { versions: number; files: number };
  downloaded: number;
  verified: { version: string; file: string; sha256: string }[];
  failed: SyncFailure[];
  published: { version: string; arch: string }[];
  /** Files that could be fetched now but were left for the next step. */
  remaining: number;
  /** Earliest retry time of files waiting after a failure. */
  nextRetryAt: string | null;
  subrequests: number;
  done: boolean;
};

export type SyncLocked = { locked: true; holder: string; until: string };

export type SyncDependencies = {
  db: D1Database;
  bucket: R2Bucket;
  config: Config;
  trigger: SyncTrigger;
  /** Fetch failed files now instead of waiting for their retry time. */
  retryNow?: boolean;
  clock?: () => Date;
};

/**
 * Runs one bounded sync step:
 *
 * 1. takes the sync lease, or returns `{ locked: true }` when another step holds it;
 * 2. refreshes upstream channels, releases (conditional on the stored ETag) and the
 *    installer script, each on its own: a failed or malformed reply is reported and
 *    leaves the stored state as it was;
 * 3. plans what the selected versions still need and downloads files, checksum files
 *    first, until the download or subrequest cap of the step is reached;
 * 4. publishes every architecture whose files are all verified and recomputes the
 *    channels, which keep their last published version while upstream is ahead.
 */
export async function runSyncStep(deps: SyncDependencies): Promise<SyncSummary | SyncLocked> {
  const clock = deps.clock ?? (() => new Date());
  const { db, config } = deps;
  const startedAt = clock().toISOString();
  const holder = crypto.randomUUID();
  const leaseEnd = () => new Date(clock().getTime() + SYNC_LOCK_TTL_MS).toISOString();

  const lease = await acquireLock(db, SYNC_LOCK_NAME, holder, startedAt, leaseEnd());
  if (!lease.acquired) return { locked: true, holder: lease.holder, until: lease.expiresAt };

  let runId: number | null = null;
  try {
    runId = await startSyncRun(db, deps.trigger, startedAt);
    const budget = new SubrequestBudget(config.sync.maxSubrequestsPerStep);
    const failed: SyncFailure[] = [];
    const upstream: SyncSummary["upstream"] = { channels: "skipped", releases: "skipped", installScript: "skipped" };

    upstream.channels = await stage("channels", failed, () => refreshUpstreamChannels(db, config, budget, startedAt));
    upstream.releases = await stage("releases", failed, () => refreshReleases(db, config, budget, startedAt));
    upstream.installScript = await stage("install-script", failed, async () => {
      const result = await syncInstallScript(db, deps.bucket, config, budget, startedAt);
      return result.status === "new" ? "updated" : "unchanged";
    });

    // Plan, download, and plan again while checksum files were verified: each one
    // unblocks the other files of its architecture.
    const planned = await loadMirrorState(db, config, startedAt, deps.retryNow ?? false);
    const verified: SyncSummary["verified"] = [];
    const attempted = new Set<string>();
    let downloaded = 0;
    let work = planned.filter((state) => state.selected).flatMap((state) => state.work);
    for (;;) {
      let unblocked = false;
      for (const item of work) {
        if (downloaded >= config.sync.maxDownloadsPerStep || budget.remaining < DOWNLOAD_SUBREQUESTS + 1) break;
        const key = `${item.version}/${item.name}`;
        if (attempted.has(key)) continue;
        attempted.add(key);
        const now = clock().toISOString();
        const outcome = await downloadFile({ db, bucket: deps.bucket, now, origin: "upstream" }, budget, item);
        downloaded += 1;
        if (outcome.ok) {
          verified.push({ version: item.version, file: item.name, sha256: outcome.sha256 });
          unblocked ||= isChecksumFile(item.name);
        } else {
          failed.push({ stage: "download", version: item.version, file: item.name, url: item.asset.browser_download_url, reason: outcome.reason, expectedSha256: outcome.expectedSha256, actualSha256: outcome.actualSha256, retryAt: outcome.retryAt });
          console.warn(JSON.stringify({ event: "sync_file_failed", runId, version: item.version, file: item.name, reason: outcome.reason }));
        }
        if (!(await renewLock(db, SYNC_LOCK_NAME, holder, leaseEnd()))) throw new Error("the sync lease expired during the step; another step may have taken over");
      }
      if (!unblocked || downloaded >= config.sync.maxDownloadsPerStep) break;
      const replanned = await loadMirrorState(db, config, clock().toISOString(), deps.retryNow ?? false);
      work = replanned.filter((state) => state.selected).flatMap((state) => state.work).filter((item) => !attempted.has(`${item.version}/${item.name}`));
    }

    const finishedAt = clock().toISOString();
    const after = await loadMirrorState(db, config, finishedAt, false);
    const published = await publishComplete(db, after, finishedAt);
    await refreshChannelStates(db, config, finishedAt);

    const remaining = after.filter((state) => state.selected).reduce((total, state) => total + state.work.length, 0);
    const retryTimes = after
      .flatMap((state) => state.arches.flatMap((arch) => arch.missing))
      .filter((missing) => missing.reason === "retry-scheduled" && missing.file?.nextAttemptAt)
      .map((missing) => missing.file!.nextAttemptAt!)
      .sort();
    const summary: SyncSummary = {
      runId,
      trigger: deps.trigger,
      startedAt,
      finishedAt,
      upstream,
      checked: { versions: planned.filter((state) => state.selected).length, files: planned.filter((state) => state.selected).reduce((total, state) => total + new Set(state.arches.flatMap((arch) => arch.required)).size, 0) },
      downloaded,
      verified,
      failed,
      published,
      remaining,
      nextRetryAt: retryTimes[0] ?? null,
      subrequests: budget.used,
      done: remaining === 0,
    };
    await finishSyncRun(db, runId, summary.done, summary, finishedAt);
    return summary;
  } catch (error) {
    // Close the step's row, so the status API does not show it running for ever.
    if (runId !== null) {
      await finishSyncRun(db, runId, false, { error: describeError(error) }, clock().toISOString()).catch(() => undefined);
    }
    throw error;
  } finally {
    await releaseLock(db, SYNC_LOCK_NAME, holder);
  }
}

/** Runs one upstream stage; an UpstreamError or exhausted budget becomes a reported failure. */
async function stage(name: SyncFailure["stage"], failed: SyncFailure[], run: () => Promise<StageResult>): Promise<StageResult> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof UpstreamError) {
      failed.push({ stage: name, url: error.url, reason: error.message });
      console.warn(JSON.stringify({ event: "sync_stage_failed", stage: name, url: error.url, reason: error.message }));
      return "failed";
    }
    if (error instanceof BudgetExhausted) {
      failed.push({ stage: name, reason: describeError(error) });
      return "skipped";
    }
    throw error;
  }
}

async function refreshUpstreamChannels(db: D1Database, config: Config, budget: SubrequestBudget, now: string): Promise<StageResult> {
  const collection = await fetchUpstreamChannels(config, budget);
  const previous = await listUpstreamChannels(db);
  const channels = collection.data.map((channel) => ({
    name: channel.name,
    latest: channel.latest ?? null,
    latestRegexp: channel.latestRegexp ?? null,
    excludeRegexp: channel.excludeRegexp ?? null,
  }));
  const changed =
    channels.length !== previous.length || channels.some((channel, index) => previous[index]?.name !== channel.name || previous[index]?.latest !== channel.latest);
  await db.batch(replaceUpstreamChannelsStatements(db, channels, previous, now));
  return changed ? "updated" : "unchanged";
}

async function refreshReleases(db: D1Database, config: Config, budget: SubrequestBudget, now: string): Promise<StageResult> {
  const previousEtag = await getSetting(db, SETTING_RELEASES_ETAG);
  const pages = await fetchReleasePages(config, previousEtag, budget);
  if (pages.status === "unchanged") return "unchanged";
  const statements = upsertReleaseStatements(db, pages.releases, "upstream", now);
  if (pages.etag) statements.push(putSettingStatement(db, SETTING_RELEASES_ETAG, pages.etag, now));
  // D1 limits a batch's size, so large release lists are stored in slices of one batch
  // each. The ETag goes last, so an interrupted store is fetched again in full.
  for (let start = 0; start < statements.length; start += 200) await db.batch(statements.slice(start, start + 200));
  return "updated";
}
