import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { githubRelease, importChannelConfig, importReleases, ORIGIN, request, resetMirror } from "./helpers";

async function fireCron(scheduledTime: number) {
  const controller = createScheduledController({ cron: "*/15 * * * *", scheduledTime });
  const context = createExecutionContext();
  await worker.scheduled(controller, env, context);
  await waitOnExecutionContext(context);
}

beforeEach(async () => {
  await resetMirror();
  await importChannelConfig("channels:\n- name: stable\n  latest: v1.30.2+k3s1\n");
  await importReleases([githubRelease("v1.30.2+k3s1", "2024-06-01T00:00:00Z")]);
  await env.DB.prepare("INSERT INTO publications (version, arch, published_at) VALUES ('v1.30.2+k3s1', 'amd64', '2024-06-02T00:00:00Z')").run();
  await importReleases([]);
});

describe("scheduled handler", () => {
  it("records a sync step when upstream refuses connections", async () => {
    await fireCron(Date.parse("2026-01-01T00:15:00Z"));
    const run = await env.DB.prepare("SELECT trigger, done, summary FROM sync_runs ORDER BY id DESC LIMIT 1").first<{ trigger: string; done: number | null; summary: string | null }>();
    expect(run?.trigger).toBe("cron");
    expect(run?.summary).toContain("127.0.0.1:9");
  });

  it("keeps mirrored state when upstream is down", async () => {
    await fireCron(Date.parse("2026-01-01T00:15:00Z"));
    const releases = await env.DB.prepare("SELECT COUNT(*) AS count FROM releases").first<{ count: number }>();
    expect(releases?.count).toBe(1);
    const publications = await env.DB.prepare("SELECT COUNT(*) AS count FROM publications").first<{ count: number }>();
    expect(publications?.count).toBe(1);

    const response = await request("/v1-release/channels/stable");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${ORIGIN}/k3s-io/k3s/releases/tag/v1.30.2+k3s1`);
  });
});
