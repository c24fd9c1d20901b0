import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { adminRequest, githubRelease, importChannelConfig, importReleases, ORIGIN, POLICY_TEST_CHANNEL_CONFIG, request, resetMirror } from "./helpers";

const CHANNEL_CONFIG = POLICY_TEST_CHANNEL_CONFIG;

const VERSIONS = ["v1.29.9+k3s1", "v1.30.3+k3s1", "v1.30.4+k3s1", "v1.31.1+k3s1", "v1.31.2+k3s1"];

const POLICY = {
  defaultChannel: "stable",
  blocked: [{ version: "v1.30.4+k3s1", reason: "etcd snapshot regression" }],
  channels: {
    latest: { hide: true },
    lts: { range: ">=1.29.0 <1.30.0" },
    "v1.31": { pin: "v1.31.1+k3s1" },
  },
  clusterGroups: [
    { name: "canary", clusters: ["0f1e2d3c-canary"], patterns: ["canary-*"], channel: "v1.31" },
    { name: "legacy", patterns: ["legacy-*"], channel: "lts" },
  ],
};

const NOT_FOUND_BODY = '{"type":"error","links":{},"code":"NotFound","message":"","status":404,"type":"error"}\n';

async function versionsOf(path: string, init: RequestInit = {}): Promise<Record<string, string | undefined>> {
  const response = await request(path, init);
  expect(response.status).toBe(200);
  const body = await response.json<{ data: Array<{ name: string; latest?: string }> }>();
  return Object.fromEntries(body.data.map((item) => [item.name, item.latest]));
}

async function redirectVersion(path: string, init: RequestInit = {}): Promise<string> {
  const response = await request(path, init);
  expect(response.status).toBe(302);
  const location = response.headers.get("location")!;
  expect(location.startsWith(`${ORIGIN}/k3s-io/k3s/releases/tag/`)).toBe(true);
  return location.slice(location.lastIndexOf("/") + 1);
}

beforeEach(async () => {
  await resetMirror();
  expect((await importChannelConfig(CHANNEL_CONFIG)).status).toBe(200);
  expect((await importReleases(VERSIONS.map((version, index) => githubRelease(version, `2026-01-0${index + 1}T00:00:00Z`)))).status).toBe(200);
  await env.DB.batch(VERSIONS.map((version) => env.DB.prepare("INSERT INTO publications (version, arch, published_at) VALUES (?, 'amd64', '2026-01-10T00:00:00Z')").bind(version)));
  const response = await adminRequest("/api/v1/policy", { method: "PUT", body: JSON.stringify(POLICY) });
  expect(response.status, await response.clone().text()).toBe(200);
});

describe("GET /v1-release/channels under policy", () => {
  it("shows the org's effective values without a cluster", async () => {
    expect(await versionsOf("/v1-release/channels")).toEqual({
      stable: "v1.30.3+k3s1",
      "v1.30": "v1.30.3+k3s1",
      "v1.31": "v1.31.1+k3s1",
      lts: "v1.29.9+k3s1",
    });
  });

  it("shows a group's default channel for X-SUC-Cluster-ID", async () => {
    const answers = await versionsOf("/v1-release/channels", { headers: { "X-SUC-Cluster-ID": "0f1e2d3c-canary" } });
    expect(answers.stable).toBe("v1.31.1+k3s1");
    expect(answers["v1.30"]).toBe("v1.30.3+k3s1");
  });

  it("shows a group's default channel for ?cluster=", async () => {
    const answers = await versionsOf("/v1-release/channels?cluster=legacy-site-4");
    expect(answers.stable).toBe("v1.29.9+k3s1");
  });

  it("keeps the org answers for a cluster in no group", async () => {
    const answers = await versionsOf("/v1-release/channels?cluster=office-2");
    expect(answers.stable).toBe("v1.30.3+k3s1");
  });

  it("keeps the regexps of channels the policy leaves alone", async () => {
    const body = await (await request("/v1-release/channels")).json<{ data: Array<{ name: string; latestRegexp?: string }> }>();
    expect(body.data.find((item) => item.name === "v1.30")!.latestRegexp).toBe("v1\\.30\\.");
    expect(body.data.find((item) => item.name === "v1.31")!.latestRegexp).toBeUndefined();
  });
});

describe("GET /v1-release/channels/:name under policy", () => {
  it("answers 302 with the policy's version", async () => {
    expect(await redirectVersion("/v1-release/channels/v1.31")).toBe("v1.31.1+k3s1");
    expect(await redirectVersion("/v1-release/channels/lts")).toBe("v1.29.9+k3s1");
  });

  it("never offers a blocked version", async () => {
    expect(await redirectVersion("/v1-release/channels/stable")).toBe("v1.30.3+k3s1");
    expect(await redirectVersion("/v1-release/channels/v1.30")).toBe("v1.30.3+k3s1");
  });

  it("answers 404 for a hidden channel", async () => {
    const response = await request("/v1-release/channels/latest");
    expect(response.status).toBe(404);
    expect(await response.text()).toBe(NOT_FOUND_BODY);
  });

  it("follows the cluster group for X-SUC-Cluster-ID", async () => {
    expect(await redirectVersion("/v1-release/channels/stable", { headers: { "X-SUC-Cluster-ID": "canary-7" } })).toBe("v1.31.1+k3s1");
  });

  it("follows the cluster group for ?cluster=", async () => {
    expect(await redirectVersion("/v1-release/channels/stable?cluster=legacy-9")).toBe("v1.29.9+k3s1");
  });

  it("gives a joining agent its cluster's channel, not the org's", async () => {
    expect(await redirectVersion("/v1-release/channels/stable?cluster=legacy-2&role=agent")).toBe("v1.29.9+k3s1");
  });

  it("holds a frozen group at its frozen version", async () => {
    const frozen = { ...POLICY, clusterGroups: [...POLICY.clusterGroups, { name: "retail", patterns: ["store-*"], freeze: { reason: "holiday season" } }] };
    expect((await adminRequest("/api/v1/policy", { method: "PUT", body: JSON.stringify(frozen) })).status).toBe(200);

    const unpinned = { ...frozen, channels: { ...frozen.channels, "v1.31": { pin: "v1.31.2+k3s1" } } };
    expect((await adminRequest("/api/v1/policy", { method: "PUT", body: JSON.stringify(unpinned) })).status).toBe(200);

    expect(await redirectVersion("/v1-release/channels/v1.31?cluster=store-1")).toBe("v1.31.1+k3s1");
    expect(await redirectVersion("/v1-release/channels/v1.31?cluster=office-1")).toBe("v1.31.2+k3s1");
  });

  it("answers an org freeze after the channel config moves on", async () => {
    const frozen = { ...POLICY, freeze: { reason: "quarter close" } };
    expect((await adminRequest("/api/v1/policy", { method: "PUT", body: JSON.stringify(frozen) })).status).toBe(200);
    await importReleases([githubRelease("v1.30.5+k3s1", "2026-02-01T00:00:00Z")]);
    await env.DB.prepare("INSERT INTO publications (version, arch, published_at) VALUES ('v1.30.5+k3s1', 'amd64', '2026-02-02T00:00:00Z')").run();
    await importReleases([]);

    expect(await redirectVersion("/v1-release/channels/v1.30")).toBe("v1.30.3+k3s1");
  });
});
