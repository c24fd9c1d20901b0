import { env, exports } from "cloudflare:workers";

export const ADMIN_TOKEN = "test-admin-token-0123456789";
export const ORIGIN = "http://mirror.test";

const TABLES = [
  "channel_configs",
  "releases",
  "upstream_channels",
  "channel_state",
  "files",
  "publications",
  "install_scripts",
  "sync_runs",
  "locks",
  "settings",
  "policy_revisions",
  "clusters",
  "nodes",
  "reports",
  "cluster_offers",
  "admin_log",
  "checksums",
];

/** Empties every table and the R2 bucket, so each test starts from a fresh mirror. */
export async function resetMirror(): Promise<void> {
  await env.DB.batch(TABLES.map((table) => env.DB.prepare(`DELETE FROM ${table}`)));
  for (let listed = await env.FILES.list(); listed.objects.length > 0; listed = await env.FILES.list()) {
    await env.FILES.delete(listed.objects.map((object) => object.key));
  }
}

/** Sends a request to the Worker's fetch handler, as a client on the mirror's origin. */
export function request(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, { redirect: "manual", ...init }));
}

/** Sends an admin request with the test token. */
export function adminRequest(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${ADMIN_TOKEN}`);
  return request(path, { ...init, headers });
}

export async function importChannelConfig(yaml: string): Promise<Response> {
  return adminRequest("/api/v1/channel-config", { method: "PUT", body: yaml });
}

export async function importReleases(releases: unknown): Promise<Response> {
  return adminRequest("/api/v1/releases", { method: "PUT", body: JSON.stringify(releases), headers: { "Content-Type": "application/json" } });
}

/** A GitHub releases API object with no assets. */
export function githubRelease(version: string, publishedAt: string, prerelease = false) {
  return { tag_name: version, prerelease, draft: false, published_at: publishedAt, assets: [] };
}

/** Marks versions published for an architecture, as a finished sync would; channel states are not recomputed. */
export async function publish(versions: readonly string[], arch = "amd64"): Promise<void> {
  await env.DB.batch(versions.map((version) => env.DB.prepare("INSERT INTO publications (version, arch, published_at) VALUES (?, ?, '2024-01-01T00:00:00Z')").bind(version, arch)));
}

/** Stores what a channel answers, as a channel state refresh would. */
export async function seedChannelState(name: string, version: string): Promise<void> {
  await env.DB.prepare("INSERT INTO channel_state (name, version, wanted, since, wanted_since) VALUES (?, ?, ?, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')").bind(name, version, version).run();
}

/** Adds a node (and its cluster) to the inventory, as an install report would. */
export async function seedNode(cluster: string, name: string, role: "server" | "agent", version: string, lastSeenAt = new Date().toISOString()): Promise<void> {
  await env.DB.batch([
    env.DB.prepare("INSERT OR IGNORE INTO clusters (id, first_seen_at, last_seen_at) VALUES (?, ?, ?)").bind(cluster, lastSeenAt, lastSeenAt),
    env.DB.prepare("INSERT OR REPLACE INTO nodes (cluster_id, name, role, version, last_seen_at) VALUES (?, ?, ?, ?, ?)").bind(cluster, name, role, version, lastSeenAt),
  ]);
}

/** A channel config of regexp channels, for policy tests: stable and v1.30 follow v1.30, v1.31 its line. */
export const POLICY_TEST_CHANNEL_CONFIG = [
  "channels:",
  "- name: stable",
  "  latestRegexp: v1\\.30\\.",
  "- name: latest",
  "  latestRegexp: .*",
  "  excludeRegexp: ^[^+]+-",
  "- name: v1.30",
  "  latestRegexp: v1\\.30\\.",
  "- name: v1.31",
  "  latestRegexp: v1\\.31\\.",
  "",
].join("\n");
