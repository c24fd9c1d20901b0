import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { invalidateSnapshots } from "../../src/channels/snapshot-cache";
import worker from "../../src/index";
import { ADMIN_TOKEN, githubRelease, ORIGIN, resetMirror } from "./helpers";

// A fresh env object, so that its config (cached per env) has the cache turned on.
const cachedEnv = { ...env, CHANNEL_CACHE_TTL_MS: "60000", CHANNEL_GATE: "known" };

function send(path: string, init: RequestInit = {}) {
  return worker.fetch(new Request(`${ORIGIN}${path}`, { redirect: "manual", ...init }), cachedEnv, {} as ExecutionContext);
}

function admin(path: string, body: string) {
  return send(path, { method: "PUT", body, headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" } });
}

beforeEach(async () => {
  await resetMirror();
  invalidateSnapshots();
  await admin("/api/v1/channel-config", "channels:\n- name: stable\n  latest: v1.30.1+k3s1\n");
});

describe("GET /v1-release/channels/:name with the snapshot cache", () => {
  it("serves a cached answer until the TTL passes", async () => {
    expect((await send("/v1-release/channels/stable")).headers.get("location")).toContain("v1.30.1+k3s1");
    // A write behind the mirror's back (another isolate, say) is not seen within the TTL.
    await env.DB.prepare("UPDATE channel_state SET version = 'v1.30.9+k3s1' WHERE name = 'stable'").run();
    expect((await send("/v1-release/channels/stable")).headers.get("location")).toContain("v1.30.1+k3s1");
  });

  it("serves a config import at once", async () => {
    expect((await send("/v1-release/channels/stable")).headers.get("location")).toContain("v1.30.1+k3s1");
    expect((await admin("/api/v1/channel-config", "channels:\n- name: stable\n  latest: v1.30.2+k3s1\n")).status).toBe(200);
    expect((await send("/v1-release/channels/stable")).headers.get("location")).toContain("v1.30.2+k3s1");
  });

  it("serves a release import at once", async () => {
    await admin("/api/v1/channel-config", "channels:\n- name: v1.31\n  latestRegexp: v1\\.31\\.\n");
    expect((await send("/v1-release/channels/v1.31")).status).toBe(404);
    await admin("/api/v1/releases", JSON.stringify([githubRelease("v1.31.2+k3s1", "2024-09-01T00:00:00Z")]));
    expect((await send("/v1-release/channels/v1.31")).headers.get("location")).toContain("v1.31.2+k3s1");
  });

  it("serves a policy change at once", async () => {
    expect((await send("/v1-release/channels/stable")).status).toBe(302);
    expect((await admin("/api/v1/policy", JSON.stringify({ blocked: [{ version: "v1.30.1+k3s1", reason: "regression" }] }))).status).toBe(200);
    expect((await send("/v1-release/channels/stable")).status).toBe(404);
  });
});
