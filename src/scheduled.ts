import { loadConfig } from "./config";
import type { Env } from "./env";
import { runSyncStep } from "./sync/step";

/** The cron handler: runs one bounded sync step and logs its summary. */
export async function runScheduled(env: Env, scheduledTime: number): Promise<void> {
  const now = new Date(scheduledTime).toISOString();
  try {
    const config = loadConfig(env);
    const result = await runSyncStep({ db: env.DB, bucket: env.FILES, config, trigger: "cron" });
    if ("locked" in result) {
      console.log(JSON.stringify({ event: "scheduled_skipped", at: now, reason: "another sync step holds the lease", until: result.until }));
      return;
    }
    console.log(
      JSON.stringify({
        event: "scheduled",
        at: now,
        runId: result.runId,
        upstream: result.upstream,
        downloaded: result.downloaded,
        verified: result.verified.length,
        failed: result.failed.map((failure) => ({ stage: failure.stage, version: failure.version, file: failure.file, reason: failure.reason })),
        published: result.published,
        remaining: result.remaining,
        done: result.done,
      }),
    );
  } catch (error) {
    console.error(JSON.stringify({ event: "scheduled_failed", at: now, error: String(error) }));
  }
}
