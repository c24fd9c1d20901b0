import { refreshChannelStates } from "./channels/service";
import { loadConfig } from "./config";
import type { Env } from "./env";

/** The cron handler: runs one bounded sync step and logs its summary. */
export async function runScheduled(env: Env, scheduledTime: number): Promise<void> {
  const now = new Date(scheduledTime).toISOString();
  try {
    const config = loadConfig(env);
    const states = await refreshChannelStates(env.DB, config, now);
    console.log(JSON.stringify({ event: "scheduled", at: now, channels: states.length }));
  } catch (error) {
    console.error(JSON.stringify({ event: "scheduled_failed", at: now, error: String(error) }));
  }
}
