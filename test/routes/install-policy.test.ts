import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { installScriptKey } from "../../src/storage/keys";
import { adminRequest, githubRelease, importChannelConfig, importReleases, publish, request, resetMirror } from "./helpers";

const INSTALLER = "#!/bin/sh\necho installer\n";
// `printf '#!/bin/sh\necho installer\n' | sha256sum`
const INSTALLER_SHA256 = "b8d79dd9085bc5326ca1968c37b26339e525478a8c8befd9dec5ae891c779bed";

async function applyPolicy(document: unknown): Promise<Response> {
  return adminRequest("/api/v1/policy", { method: "PUT", body: JSON.stringify(document), headers: { "Content-Type": "application/json" } });
}

function defaultChannelOf(script: string): string | undefined {
  return /^    mirror_default_channel='([^']*)'$/m.exec(script)?.[1];
}

beforeEach(async () => {
  await resetMirror();
  const versions = ["v1.30.4+k3s1", "v1.30.5+k3s1", "v1.30.5+k3s2", "v1.31.1+k3s1"];
  await importChannelConfig("channels:\n- name: stable\n  latest: v1.30.5+k3s2\n- name: latest\n  latestRegexp: .*\n");
  await importReleases(versions.map((version, index) => githubRelease(version, `2024-0${index + 1}-01T00:00:00Z`)));
  await publish(versions);
  await importReleases([]);
});

describe("GET / under org policy", () => {
  beforeEach(async () => {
    await env.FILES.put(installScriptKey(INSTALLER_SHA256), INSTALLER);
    await env.DB.prepare("INSERT INTO install_scripts (sha256, size, source_url, first_seen_at, last_seen_at) VALUES (?, ?, 'https://installer.test/', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')")
      .bind(INSTALLER_SHA256, INSTALLER.length)
      .run();
  });

  it("GET / uses the policy's default channel", async () => {
    expect((await applyPolicy({ defaultChannel: "latest" })).status).toBe(200);
    const response = await request("/");
    expect(response.status).toBe(200);
    expect(defaultChannelOf(await response.text())).toBe("latest");
  });

  it("GET /?cluster= uses the cluster group's channel", async () => {
    expect((await applyPolicy({ clusterGroups: [{ name: "canary", patterns: ["canary-*"], channel: "latest" }] })).status).toBe(200);
    expect(defaultChannelOf(await (await request("/?cluster=canary-7")).text())).toBe("latest");
    expect(defaultChannelOf(await (await request("/?cluster=prod-1")).text())).toBe("stable");
  });
});

describe("GET /api/v1/versions/resolve under org policy", () => {
  it("rejects a blocked exact version with the policy's reason", async () => {
    await applyPolicy({ blocked: [{ version: "v1.30.5+k3s2", reason: "etcd snapshot bug" }] });
    const response = await request("/api/v1/versions/resolve?version=v1.30.5-k3s2");
    expect(response.status).toBe(403);
    const text = await response.text();
    expect(text).toContain("v1.30.5+k3s2");
    expect(text).toContain("etcd snapshot bug");
  });

  it("resolves a version without build to the newest unblocked build", async () => {
    await applyPolicy({ blocked: [{ version: "v1.30.5+k3s2", reason: "etcd snapshot bug" }] });
    const response = await request("/api/v1/versions/resolve?version=1.30.5");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("v1.30.5+k3s1\n");
  });

  it("rejects a version whose every build is blocked", async () => {
    await applyPolicy({ blocked: [{ range: ">=1.30.5 <1.30.6", reason: "containerd CVE" }] });
    const response = await request("/api/v1/versions/resolve?version=v1.30.5");
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("containerd CVE");
  });

  it("leaves unblocked versions alone", async () => {
    await applyPolicy({ blocked: [{ version: "v1.30.5+k3s2", reason: "etcd snapshot bug" }] });
    const response = await request("/api/v1/versions/resolve?version=v1.31.1%2Bk3s1");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("v1.31.1+k3s1\n");
  });
});
