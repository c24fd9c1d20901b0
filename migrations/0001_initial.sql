-- Schema of the mirror's metadata. Release files live in R2; the object keys are
-- built in src/storage/keys.ts. Times are ISO 8601 strings in UTC.

-- Imported channel configurations (channelserver YAML format). The row with the
-- highest id is live; older rows are kept as history.
CREATE TABLE channel_configs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  document TEXT NOT NULL,          -- normalised JSON of the parsed config
  source TEXT NOT NULL,            -- the text as imported
  imported_by TEXT NOT NULL,       -- admin token label
  imported_at TEXT NOT NULL
);

-- Releases the mirror knows, as the GitHub releases API lists them.
CREATE TABLE releases (
  version TEXT PRIMARY KEY,        -- tag_name, for example v1.33.6+k3s1
  prerelease INTEGER NOT NULL,
  draft INTEGER NOT NULL,
  published_at TEXT,
  assets TEXT NOT NULL,            -- JSON array of {name, size, browser_download_url, digest}
  origin TEXT NOT NULL,            -- 'upstream' (sync) or 'import' (admin)
  updated_at TEXT NOT NULL
);

-- The upstream channel server's last good answer, one row per channel.
CREATE TABLE upstream_channels (
  name TEXT PRIMARY KEY,
  latest TEXT,
  latest_regexp TEXT,
  exclude_regexp TEXT,
  position INTEGER NOT NULL,       -- order in upstream's collection
  changed_at TEXT NOT NULL,        -- when upstream's latest last changed
  fetched_at TEXT NOT NULL
);

-- What each mirror channel answers, recomputed after every sync step, config
-- import and policy change. `version` only ever names a published release.
CREATE TABLE channel_state (
  name TEXT PRIMARY KEY,
  version TEXT,
  wanted TEXT,                     -- what the channel rules want; differs from version while lagging
  since TEXT NOT NULL,             -- when `version` took its value
  wanted_since TEXT                -- when `wanted` took its value
);

-- One row per release file the mirror tracks.
CREATE TABLE files (
  version TEXT NOT NULL,
  name TEXT NOT NULL,              -- asset name, for example k3s-arm64
  arch TEXT NOT NULL,              -- amd64, arm64, arm, s390x, or 'all' for arch-independent files
  state TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'failed')),
  size INTEGER,
  sha256 TEXT,                     -- verified hash of the stored object
  expected_sha256 TEXT,
  actual_sha256 TEXT,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  verified_at TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (version, name)
);

-- A version is published for an architecture once all its required files are verified.
CREATE TABLE publications (
  version TEXT NOT NULL,
  arch TEXT NOT NULL,
  published_at TEXT NOT NULL,
  PRIMARY KEY (version, arch)
);

-- Upstream installer scripts seen, stored in R2 by SHA-256.
CREATE TABLE install_scripts (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  source_url TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL
);

-- Sync steps and their summaries.
CREATE TABLE sync_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  trigger TEXT NOT NULL,           -- 'cron', 'api' or 'import'
  started_at TEXT NOT NULL,
  finished_at TEXT,
  done INTEGER,
  summary TEXT                     -- JSON
);

-- Leases that keep two sync steps from fetching the same file.
CREATE TABLE locks (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

-- Small named values: upstream ETags, the sync cursor.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Org policy revisions. The row with the highest id is live.
CREATE TABLE policy_revisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  document TEXT NOT NULL,          -- JSON
  author TEXT NOT NULL,            -- admin token label
  comment TEXT NOT NULL,
  created_at TEXT NOT NULL,
  rollback_of INTEGER
);

-- Fleet inventory, fed by install reports and system-upgrade-controller requests.
CREATE TABLE clusters (
  id TEXT PRIMARY KEY,
  first_seen_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  suc_latest_version TEXT,         -- last X-SUC-Latest-Version, normalised to the + spelling
  suc_seen_at TEXT
);

CREATE TABLE nodes (
  cluster_id TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('server', 'agent')),
  version TEXT,
  last_seen_at TEXT NOT NULL,
  PRIMARY KEY (cluster_id, name)
);

CREATE TABLE reports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cluster_id TEXT NOT NULL,
  node_name TEXT NOT NULL,
  role TEXT NOT NULL,
  phase TEXT NOT NULL,             -- 'before' or 'after'
  version_before TEXT,
  version_after TEXT,
  outcome TEXT NOT NULL,
  override_used INTEGER NOT NULL DEFAULT 0,
  received_at TEXT NOT NULL
);

-- What a channel last offered to a cluster, so that answers stay consistent
-- during a rollout and hops wait for their dwell time.
CREATE TABLE cluster_offers (
  cluster_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  version TEXT NOT NULL,
  offered_at TEXT NOT NULL,
  PRIMARY KEY (cluster_id, channel)
);

-- Every admin change, with the label of the token that made it.
CREATE TABLE admin_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  label TEXT NOT NULL,
  action TEXT NOT NULL,
  detail TEXT NOT NULL
);

CREATE INDEX files_state ON files (state, next_attempt_at);
CREATE INDEX reports_cluster ON reports (cluster_id, received_at);
CREATE INDEX nodes_cluster ON nodes (cluster_id, role);
