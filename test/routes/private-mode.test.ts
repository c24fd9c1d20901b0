import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { app } from "../../src/index";
import { ADMIN_TOKEN, githubRelease, importChannelConfig, importReleases, ORIGIN, resetMirror } from "./helpers";

const NODE_TOKEN = "node-token-abcdef0123456789";
const OTHER_NODE_TOKEN = "site-b-token-0123456789abcdef";
const PRIVATE_ENV = { ...env, NODE_TOKENS: `site-a:${NODE_TOKEN},site-b:${OTHER_NODE_TOKEN}` };

const EXPECTED_401_BODY = JSON.stringify({
  type: "error",
  code: "Unauthorized",
  status: 401,
  message: "this mirror is private: node-facing URLs need a node token prefix, as in /t/<token>/v1-release/channels",
});

async function privateRequest(path: string, init: RequestInit = {}): Promise<Response> {
  return app.fetch(new Request(`${ORIGIN}${path}`, { redirect: "manual", ...init }), PRIVATE_ENV);
}

beforeEach(async () => {
  await resetMirror();
  await importChannelConfig("channels:\n- name: stable\n  latestRegexp: v1\\.30\\.\n");
  await importReleases([githubRelease("v1.30.4+k3s1", "2026-01-01T00:00:00Z")]);
  await env.DB.prepare("INSERT INTO publications (version, arch, published_at) VALUES ('v1.30.4+k3s1', 'amd64', '2026-01-02T00:00:00Z')").run();
  await importReleases([]);
});

describe("private mode", () => {
  const refused: Array<[string, string]> = [
    ["channel collection without token", "/v1-release/channels"],
    ["existing channel without token", "/v1-release/channels/stable"],
    ["missing channel without token", "/v1-release/channels/no-such-channel"],
    ["existing channel with a wrong token", "/t/wrong-token-0123456789abcdef/v1-release/channels/stable"],
    ["missing channel with a wrong token", "/t/wrong-token-0123456789abcdef/v1-release/channels/no-such-channel"],
    ["channel with an empty token", "/t//v1-release/channels/stable"],
    ["download without token", "/k3s-io/k3s/releases/download/v1.30.4+k3s1/k3s"],
    ["download of a missing version without token", "/k3s-io/k3s/releases/download/v9.9.9+k3s1/k3s"],
    ["download with a wrong token", "/t/wrong-token-0123456789abcdef/k3s-io/k3s/releases/download/v1.30.4+k3s1/k3s"],
    ["artifact layout without token", "/k3s/v1.30.4%2Bk3s1/k3s"],
    ["tag page without token", "/k3s-io/k3s/releases/tag/v1.30.4+k3s1"],
    ["install script at / without token", "/"],
    ["install script without token", "/install.sh"],
    ["install script with a wrong token", "/t/wrong-token-0123456789abcdef/install.sh"],
    ["version resolution without token", "/api/v1/versions/resolve?version=1.30.4"],
    ["preflight without token", "/api/v1/preflight?cluster=c1&role=server&current=v1.30.4%2Bk3s1&target=v1.30.4%2Bk3s1"],
  ];

  for (const [name, path] of refused) {
    it(`GET ${path} answers 401 for ${name}`, async () => {
      const response = await privateRequest(path);
      expect(response.status).toBe(401);
      expect(await response.text()).toBe(EXPECTED_401_BODY);
      expect(response.headers.get("location")).toBeNull();
    });
  }

  it("POST /api/v1/report answers 401 without token", async () => {
    const response = await privateRequest("/api/v1/report", { method: "POST", body: "{}" });
    expect(response.status).toBe(401);
    expect(await response.text()).toBe(EXPECTED_401_BODY);
  });

  it("GET /t/<token>/v1-release/channels links through the prefix", async () => {
    const response = await privateRequest(`/t/${NODE_TOKEN}/v1-release/channels`);
    expect(response.status).toBe(200);
    const body = await response.json<{ links: { self: string }; data: Array<{ links: { self: string }; latest: string }> }>();
    expect(body.links.self).toBe(`${ORIGIN}/t/${NODE_TOKEN}/v1-release/channels`);
    expect(body.data[0]!.links.self).toBe(`${ORIGIN}/t/${NODE_TOKEN}/v1-release/channels/stable`);
    expect(body.data[0]!.latest).toBe("v1.30.4+k3s1");
  });

  it("GET /t/<token>/v1-release/channels/:name redirects within the prefix", async () => {
    const response = await privateRequest(`/t/${OTHER_NODE_TOKEN}/v1-release/channels/stable`);
    expect(response.status).toBe(302);
    const location = response.headers.get("location")!;
    expect(location).toBe(`${ORIGIN}/t/${OTHER_NODE_TOKEN}/k3s-io/k3s/releases/tag/v1.30.4+k3s1`);

    const target = await privateRequest(location.slice(ORIGIN.length));
    expect(target.status).toBe(200);
  });

  it("GET /t/<token>/v1-release/channels/:name answers 404 for a missing channel", async () => {
    const response = await privateRequest(`/t/${NODE_TOKEN}/v1-release/channels/no-such-channel`);
    expect(response.status).toBe(404);
  });

  it("GET /t/<token>/install.sh passes the token check", async () => {
    const response = await privateRequest(`/t/${NODE_TOKEN}/install.sh`);
    expect(response.status).not.toBe(401);
  });

  it("keeps the query string behind the prefix", async () => {
    await app.fetch(
      new Request(`${ORIGIN}/api/v1/policy`, {
        method: "PUT",
        body: JSON.stringify({ channels: { pinned: { pin: "v1.30.4+k3s1" } }, clusterGroups: [{ name: "g", clusters: ["c-1"], channel: "pinned" }] }),
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
      PRIVATE_ENV,
    );
    const response = await privateRequest(`/t/${NODE_TOKEN}/v1-release/channels?cluster=c-1`);
    const body = await response.json<{ data: Array<{ name: string; latest: string }> }>();
    expect(body.data.map((item) => item.name)).toEqual(["stable", "pinned"]);
  });

  it("GET /api/v1/policy keeps bearer auth without a prefix", async () => {
    expect((await privateRequest("/api/v1/policy", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    expect((await privateRequest("/api/v1/policy")).status).toBe(401);
  });

  it("PUT /api/v1/releases keeps bearer auth without a prefix", async () => {
    const response = await privateRequest("/api/v1/releases", { method: "PUT", body: "[]", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.status).toBe(200);
  });

  it("GET /api/v1/policy/schema stays public", async () => {
    expect((await privateRequest("/api/v1/policy/schema")).status).toBe(200);
  });

  it("GET /t/<token>/... answers 404 when private mode is off", async () => {
    const response = await app.fetch(new Request(`${ORIGIN}/t/${NODE_TOKEN}/v1-release/channels`), env);
    expect(response.status).toBe(404);
  });

  it("GET /v1-release/channels answers anonymously when private mode is off", async () => {
    const response = await app.fetch(new Request(`${ORIGIN}/v1-release/channels`), env);
    expect(response.status).toBe(200);
  });
});
