/**
 * Bindings and vars of the Worker, as declared in wrangler.toml. Vars arrive as strings
 * and are normalised once by `loadConfig` in src/config.ts.
 */
export type Env = {
  DB: D1Database;
  FILES: R2Bucket;

  ADMIN_TOKEN?: string;
  ADMIN_TOKENS?: string;
  NODE_TOKENS?: string;
  GITHUB_TOKEN?: string;

  UPSTREAM_CHANNELS_URL?: string;
  UPSTREAM_RELEASES_API?: string;
  UPSTREAM_INSTALL_SCRIPT_URL?: string;
  MIRROR_ARCHES?: string;
  MIRROR_OLDEST_MINOR?: string;
  MIRROR_PATCHES_PER_MINOR?: string;
  MIRROR_AIRGAP?: string;
  DEFAULT_CHANNEL?: string;
  SYNC_MAX_DOWNLOADS_PER_STEP?: string;
  SYNC_MAX_SUBREQUESTS_PER_STEP?: string;
  CHANNEL_GATE?: string;
  NODE_STALE_AFTER_HOURS?: string;
  SKEW_HOP_DWELL_MINUTES?: string;
  CHANNEL_CACHE_TTL_MS?: string;
};

/** Values that travel through the Hono context for one request. */
export type Variables = {
  config: import("./config").Config;
  adminLabel: string;
  /** `/t/<token>` when the request came through private mode's node-token prefix, else "". */
  nodePrefix: string;
};

export type AppEnv = { Bindings: Env; Variables: Variables };
