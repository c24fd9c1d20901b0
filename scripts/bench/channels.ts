/**
 * Channel benchmark: the 302 of `/v1-release/channels/stable` and the channel collection,
 * from the mirror and from nginx sending the same bytes from static files.
 */
import path from "node:path";
import { loadFigures, measureLoad, type LoadResult } from "./load";
import { startBenchMirror } from "./mirror";
import { startNginx, type StaticResponse } from "./nginx";
import type { Section } from "./report";

const MINORS = [30, 31, 32, 33, 34];
const PATCHES_PER_MINOR = 6;
const STABLE_VERSION = "v1.33.5+k3s1";
/** Share of failed requests in a run above which the benchmark fails instead of noting them. */
const MAX_FAILED_FRACTION = 0.01;

export type ChannelBenchOptions = {
  concurrencies: number[];
  durationSeconds: number;
  nginxBinary: string | null;
  workDir: string;
  log: (line: string) => void;
};

/** Renders a channel config in the layout of the k3s channel server: a pinned stable, regexp channels. */
export function benchChannelConfig(): string {
  return [
    "channels:",
    "- name: stable",
    `  latest: ${STABLE_VERSION}`,
    "- name: latest",
    "  latestRegexp: .*",
    "  excludeRegexp: ^[^+]+-",
    "- name: testing",
    "  latestRegexp: -(alpha|beta|rc)",
    ...MINORS.flatMap((minor) => [`- name: v1.${minor}`, `  latestRegexp: v1\\.${minor}\\..*`, "  excludeRegexp: ^[^+]+-"]),
    "github:",
    "  owner: k3s-io",
    "  repo: k3s",
    "redirectBase: https://github.com/k3s-io/k3s/releases/tag/",
    "",
  ].join("\n");
}

/** Builds a GitHub releases API list of MINORS × PATCHES_PER_MINOR releases, newest first. */
export function benchReleaseList(): unknown[] {
  const releases: { tag_name: string; prerelease: boolean; draft: boolean; published_at: string; assets: never[] }[] = [];
  let hour = 0;
  for (const minor of MINORS) {
    for (let patch = 0; patch < PATCHES_PER_MINOR; patch += 1) {
      hour += 1;
      releases.push({ tag_name: `v1.${minor}.${patch}+k3s1`, prerelease: false, draft: false, published_at: new Date(Date.UTC(2025, 0, 1) + hour * 3_600_000).toISOString(), assets: [] });
    }
  }
  return releases.reverse();
}

type Endpoint = { id: string; label: string; path: string; expectedStatus: 200 | 302 };

const ENDPOINTS: Endpoint[] = [
  { id: "lookup", label: "channel lookup (302)", path: "/v1-release/channels/stable", expectedStatus: 302 },
  { id: "collection", label: "channel collection", path: "/v1-release/channels", expectedStatus: 200 },
];

/**
 * Fetches one response from the mirror for nginx to replay, and checks its status, so
 * that a broken mirror fails the benchmark.
 */
async function captureResponse(mirrorUrl: string, endpoint: Endpoint): Promise<StaticResponse> {
  const response = await fetch(`${mirrorUrl}${endpoint.path}`, { redirect: "manual" });
  const body = await response.text();
  if (response.status !== endpoint.expectedStatus) {
    throw new Error(`the mirror returned ${response.status} for GET ${endpoint.path}, expected ${endpoint.expectedStatus}: ${body.slice(0, 300)}`);
  }
  return {
    path: endpoint.path,
    status: endpoint.expectedStatus,
    contentType: response.headers.get("content-type") ?? "application/octet-stream",
    body,
    location: response.headers.get("location") ?? undefined,
  };
}

/** Checks that nginx replays the mirror's status, Location and body byte for byte. */
async function verifyReplay(nginxUrl: string, expected: StaticResponse): Promise<void> {
  const response = await fetch(`${nginxUrl}${expected.path}`, { redirect: "manual" });
  const body = await response.text();
  const location = response.headers.get("location") ?? undefined;
  if (response.status !== expected.status || body !== expected.body || location !== expected.location) {
    throw new Error(`nginx config is wrong: GET ${expected.path} returned status ${response.status}, Location ${location}, ${body.length} bytes; expected ${expected.status}, ${expected.location}, ${expected.body.length} bytes`);
  }
}

/** Runs the channel benchmark and returns its report section. */
export async function benchChannels(options: ChannelBenchOptions): Promise<Section> {
  const { log } = options;
  const section: Section = {
    id: "channels",
    title: "Channel lookup and collection",
    method:
      `autocannon against GET /v1-release/channels/stable (the 302) and GET /v1-release/channels, ${options.durationSeconds} s per run after a 1 s warm-up, ` +
      `at ${options.concurrencies.join(", ")} connections. nginx sends the same status, Location and body from static files, captured from the mirror. ` +
      `The mirror holds ${MINORS.length * PATCHES_PER_MINOR} releases and ${3 + MINORS.length} channels, imported through its admin API.`,
    columns: ["mirror", "nginx"],
    figures: [],
    notes: [],
    skipped: null,
    raw: {},
  };

  // 1. The mirror, with a channel config and releases imported through the admin API.
  log("channels: starting the mirror and importing channels and releases");
  const mirror = await startBenchMirror({ CHANNEL_GATE: "known" });
  const raw: Record<string, { mirror: LoadResult[]; nginx: LoadResult[] }> = {};
  try {
    await mirror.admin("PUT", "/api/v1/releases", JSON.stringify(benchReleaseList()));
    await mirror.admin("PUT", "/api/v1/channel-config", benchChannelConfig());
    const responses = await Promise.all(ENDPOINTS.map((endpoint) => captureResponse(mirror.url, endpoint)));

    let nginx: Awaited<ReturnType<typeof startNginx>> | null = null;
    try {
      // 2. nginx replaying the captured responses.
      if (options.nginxBinary) {
        nginx = await startNginx(options.nginxBinary, path.join(options.workDir, "nginx-channels"), { responses, fileRoots: [] });
        for (const response of responses) await verifyReplay(nginx.url, response);
      } else {
        section.notes.push("nginx is not available, so only the mirror was measured.");
      }

      // 3. Each endpoint at each concurrency, mirror and nginx back to back.
      for (const endpoint of ENDPOINTS) {
        raw[endpoint.id] = { mirror: [], nginx: [] };
        for (const connections of options.concurrencies) {
          const run = async (baseUrl: string) => {
            const target = { url: `${baseUrl}${endpoint.path}`, connections, expectedStatus: endpoint.expectedStatus };
            await measureLoad({ ...target, durationSeconds: 1 });
            const result = await measureLoad({ ...target, durationSeconds: options.durationSeconds });
            const failures = result.errors + result.unexpectedStatus;
            const summary = `${endpoint.label} at ${connections} connections against ${baseUrl}: ${result.errors} socket errors or timeouts, ${result.unexpectedStatus} statuses other than ${endpoint.expectedStatus} in ${result.requests} responses`;
            if (failures > MAX_FAILED_FRACTION * Math.max(result.requests, 1)) throw new Error(summary);
            if (failures > 0) section.notes.push(`${summary}.`);
            return result;
          };
          const fromMirror = await run(mirror.url);
          const fromNginx = nginx ? await run(nginx.url) : null;
          raw[endpoint.id]!.mirror.push(fromMirror);
          if (fromNginx) raw[endpoint.id]!.nginx.push(fromNginx);
          log(`channels: ${endpoint.id} c=${connections}: mirror ${fromMirror.requestsPerSecond.toFixed(0)} req/s, nginx ${fromNginx ? fromNginx.requestsPerSecond.toFixed(0) : "-"} req/s`);
          section.figures.push(...loadFigures(`${endpoint.label}, ${connections} connection${connections === 1 ? "" : "s"}`, fromMirror, fromNginx));
        }
      }
    } finally {
      await nginx?.stop();
    }
  } finally {
    await mirror.stop();
  }
  section.raw = raw;
  return section;
}
