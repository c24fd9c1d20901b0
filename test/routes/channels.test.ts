import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import k3s2023 from "../fixtures/k3s-channels-2023.yaml?raw";
import releases2023 from "../fixtures/k3s-releases-2023.json";
import { adminRequest, githubRelease, importChannelConfig, importReleases, ORIGIN, publish, request, resetMirror } from "./helpers";

const NOT_FOUND_BODY = '{"type":"error","links":{},"code":"NotFound","message":"","status":404,"type":"error"}\n';

beforeEach(async () => {
  await resetMirror();
});

describe("GET /v1-release/channels", () => {
  it("answers the embedded layout before any import", async () => {
    const response = await request("/v1-release/channels");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    const text = await response.text();
    expect(text.startsWith(`{"type":"collection","links":{"self":"${ORIGIN}/v1-release/channels"},"actions":{},"resourceType":"channels","data":[`)).toBe(true);
    expect(text.endsWith("]}\n")).toBe(true);
    expect(text).toContain(`{"id":"stable","type":"channel","links":{"self":"${ORIGIN}/v1-release/channels/stable"},"name":"stable"}`);
  });

  it("reproduces the 2023 k3s collection from its config and releases", async () => {
    expect((await importChannelConfig(k3s2023)).status).toBe(200);
    expect((await importReleases(releases2023)).status).toBe(200);
    await publish(releases2023.map((release) => release.tag_name));
    expect((await importReleases(releases2023)).status).toBe(200);

    const body = JSON.parse(await (await request("/v1-release/channels")).text());
    const latest = Object.fromEntries(body.data.map((item: { name: string; latest?: string }) => [item.name, item.latest]));
    expect(latest).toEqual({
      stable: "v1.25.6+k3s1",
      latest: "v1.26.1+k3s1",
      testing: "v1.26.2-rc1+k3s1",
      "v1.16": "v1.16.15+k3s1",
      "v1.16-testing": "v1.16.14-rc1+k3s1",
      "v1.17": "v1.17.17+k3s1",
      "v1.17-testing": "v1.17.17-rc1+k3s1",
      "v1.18": "v1.18.20+k3s1",
      "v1.18-testing": "v1.18.20-rc1+k3s1",
      "v1.19": "v1.19.16+k3s1",
      "v1.20": "v1.20.15+k3s1",
      "v1.21": "v1.21.14+k3s1",
      "v1.22": "v1.22.17+k3s1",
      "v1.23": "v1.23.16+k3s1",
      "v1.24": "v1.24.10+k3s1",
      "v1.25": "v1.25.6+k3s1",
      "v1.26": "v1.26.1+k3s1",
    });
  });

  it("writes keys in channelserver order and omits empty fields", async () => {
    await importChannelConfig("channels:\n- name: v1.30\n  latestRegexp: v1\\.30\\.\n  excludeRegexp: ^[^+]+-\n- name: empty\n  latestRegexp: v9\\.\n");
    await importReleases([githubRelease("v1.30.2+k3s1", "2024-06-01T00:00:00Z")]);
    await publish(["v1.30.2+k3s1"]);
    await importReleases([]);

    const text = await (await request("/v1-release/channels")).text();
    expect(text).toBe(
      `{"type":"collection","links":{"self":"${ORIGIN}/v1-release/channels"},"actions":{},"resourceType":"channels","data":[` +
        `{"id":"v1.30","type":"channel","links":{"self":"${ORIGIN}/v1-release/channels/v1.30"},"name":"v1.30","latest":"v1.30.2+k3s1","latestRegexp":"v1\\\\.30\\\\.","excludeRegexp":"^[^+]+-"},` +
        `{"id":"empty","type":"channel","links":{"self":"${ORIGIN}/v1-release/channels/empty"},"name":"empty","latestRegexp":"v9\\\\."}]}\n`,
    );
  });

  it("builds links from X-Forwarded-Proto and X-Forwarded-Host", async () => {
    const response = await request("/v1-release/channel", { headers: { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "mirror.example.org" } });
    const body = await response.json<{ links: { self: string } }>();
    expect(body.links.self).toBe("https://mirror.example.org/v1-release/channels");
  });

  it("ignores a forwarded host that is not a host name", async () => {
    const response = await request("/v1-release/channels", { headers: { "X-Forwarded-Host": 'evil"host/<x>' } });
    const body = await response.json<{ links: { self: string } }>();
    expect(body.links.self).toBe(`${ORIGIN}/v1-release/channels`);
  });
});

describe("GET /v1-release/releases and /v1-release/appdefaults", () => {
  it.each(["releases", "appdefaults"])("answers an empty %s collection", async (resourceType) => {
    const response = await request(`/v1-release/${resourceType}`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(`{"type":"collection","links":{"self":"${ORIGIN}/v1-release/${resourceType}"},"actions":{},"resourceType":"${resourceType}","data":[]}\n`);
  });
});

describe("GET /v1-release/channels/:name", () => {
  beforeEach(async () => {
    await importChannelConfig("channels:\n- name: stable\n  latest: v1.30.2+k3s1\n- name: none\n  latestRegexp: v9\\.\n");
    await importReleases([githubRelease("v1.30.2+k3s1", "2024-06-01T00:00:00Z")]);
    await publish(["v1.30.2+k3s1"]);
    await importReleases([]);
  });

  it("answers 302 with the version as the last Location segment", async () => {
    const response = await request("/v1-release/channels/stable");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${ORIGIN}/k3s-io/k3s/releases/tag/v1.30.2+k3s1`);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-location")).toBeNull();
    expect(await response.text()).toBe(`<a href="${ORIGIN}/k3s-io/k3s/releases/tag/v1.30.2+k3s1">Found</a>.\n\n`);
  });

  it("answers HEAD with the same status and headers and no body", async () => {
    const response = await request("/v1-release/channels/stable", { method: "HEAD" });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${ORIGIN}/k3s-io/k3s/releases/tag/v1.30.2+k3s1`);
    expect(await response.text()).toBe("");
  });

  it("answers 404 with upstream's bytes for an unknown channel", async () => {
    const response = await request("/v1-release/channels/unknown");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.text()).toBe(NOT_FOUND_BODY);
  });

  it("answers 404 for a channel with no version", async () => {
    const response = await request("/v1-release/channels/none");
    expect(response.status).toBe(404);
    expect(await response.text()).toBe(NOT_FOUND_BODY);
  });

  it("keeps a channel on its published version while the pin is unpublished", async () => {
    await importChannelConfig("channels:\n- name: stable\n  latest: v1.30.3+k3s1\n");
    const response = await request("/v1-release/channels/stable");
    expect(response.headers.get("location")).toBe(`${ORIGIN}/k3s-io/k3s/releases/tag/v1.30.2+k3s1`);
  });

  it.each(["%3Cscript%3E", "a%20b", "x".repeat(65), "a%22b"])("answers 404 without echoing %s", async (name) => {
    const response = await request(`/v1-release/channels/${name}`);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe(NOT_FOUND_BODY);
  });
});

describe("GET /k3s-io/k3s/releases/tag/:version", () => {
  it("answers 200 for a channel's redirect target", async () => {
    await importReleases([githubRelease("v1.30.2+k3s1", "2024-06-01T00:00:00Z")]);
    for (const spelling of ["v1.30.2+k3s1", "v1.30.2%2Bk3s1", "v1.30.2-k3s1"]) {
      const response = await request(`/k3s-io/k3s/releases/tag/${spelling}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("<h1>v1.30.2+k3s1</h1>");
    }
  });

  it("answers 404 for a tag that is not a version", async () => {
    const response = await request("/k3s-io/k3s/releases/tag/%3Cb%3E");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("application/json");
  });
});

describe("unknown paths", () => {
  it("answer 404 JSON", async () => {
    const response = await request("/no/such/path");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: "NotFound" });
  });
});

describe("admin API", () => {
  it("rejects a missing token with 401", async () => {
    const response = await request("/api/v1/channel-config");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
  });

  it("rejects a wrong token with 401", async () => {
    const response = await request("/api/v1/channel-config", { headers: { Authorization: "Bearer wrong-token-0123456789" } });
    expect(response.status).toBe(401);
  });

  it("answers 503 when no admin token is configured", async () => {
    const { default: worker } = await import("../../src/index");
    const response = await worker.fetch(new Request(`${ORIGIN}/api/v1/channel-config`), { ...env, ADMIN_TOKEN: undefined }, {} as ExecutionContext);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain("ADMIN_TOKEN");
  });

  it("PUT /api/v1/channel-config rejects an invalid regexp and keeps the live config", async () => {
    await importChannelConfig("channels:\n- name: stable\n  latest: v1.30.2+k3s1\n");
    const response = await importChannelConfig("channels:\n- name: good\n  latestRegexp: v1\n- name: v1.31\n  latestRegexp: (?<=v)1\\.31\n");
    expect(response.status).toBe(400);
    const body = await response.json<{ message: string }>();
    expect(body.message).toContain('channel "v1.31"');
    expect(body.message).toContain("latestRegexp");

    const live = await adminRequest("/api/v1/channel-config");
    const config = await live.json<{ config: { channels: { name: string }[] } }>();
    expect(config.config.channels.map((channel) => channel.name)).toEqual(["stable"]);
    const { results } = await env.DB.prepare("SELECT COUNT(*) AS count FROM channel_configs").all<{ count: number }>();
    expect(results[0]?.count).toBe(1);
  });

  it("PUT /api/v1/channel-config rejects removing a channel the policy follows", async () => {
    await importChannelConfig("channels:\n- name: stable\n- name: v1.30\n  latestRegexp: v1\\.30\\.\n");
    const policy = await adminRequest("/api/v1/policy", { method: "PUT", body: JSON.stringify({ channels: { org: { follow: "v1.30" } } }), headers: { "Content-Type": "application/json" } });
    expect(policy.status).toBe(200);

    const response = await importChannelConfig("channels:\n- name: stable\n");
    expect(response.status).toBe(400);
    expect((await response.json<{ message: string }>()).message).toContain("v1.30");
    const { results } = await env.DB.prepare("SELECT COUNT(*) AS count FROM channel_configs").all<{ count: number }>();
    expect(results[0]?.count).toBe(1);
  });

  it("PUT /api/v1/releases rejects a malformed release and stores nothing", async () => {
    const response = await importReleases([githubRelease("v1.30.2+k3s1", "2024-06-01T00:00:00Z"), { tag_name: "v1.30.3+k3s1", prerelease: "no" }]);
    expect(response.status).toBe(400);
    expect((await response.json<{ message: string }>()).message).toContain("1.prerelease");
    const { results } = await env.DB.prepare("SELECT COUNT(*) AS count FROM releases").all<{ count: number }>();
    expect(results[0]?.count).toBe(0);
  });

  it("PUT /api/v1/releases rejects a body that is not JSON", async () => {
    const response = await adminRequest("/api/v1/releases", { method: "PUT", body: "{" });
    expect(response.status).toBe(400);
  });

  it("rejects a body over 1 MiB with 413", async () => {
    const response = await adminRequest("/api/v1/channel-config", { method: "PUT", body: `channels: []\n#${"x".repeat(1024 * 1024)}` });
    expect(response.status).toBe(413);
  });

  it("records admin changes with the token label", async () => {
    await importChannelConfig("channels:\n- name: stable\n");
    const row = await env.DB.prepare("SELECT label, action FROM admin_log").first();
    expect(row).toEqual({ label: "admin", action: "channel-config.import" });
  });
});
