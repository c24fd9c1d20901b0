import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { ORIGIN, publish, request, resetMirror, seedChannelState, seedNode } from "./helpers";

const PUBLISHED = [
  "v1.18.20+k3s1",
  "v1.19.15+k3s2",
  "v1.19.16+k3s1",
  "v1.20.0+k3s2",
  "v1.20.5+k3s1",
  "v1.20.15+k3s1",
  "v1.21.14+k3s1",
  "v1.21.15-rc1+k3s1",
  "v1.22.4+k3s1",
];
const TAG = `${ORIGIN}/k3s-io/k3s/releases/tag/`;
const HOUR_MS = 3_600_000;

async function seedMirror(stable: string) {
  await publish(PUBLISHED);
  await seedChannelState("stable", stable);
}

async function lookup(path: string, headers: Record<string, string> = {}) {
  const response = await request(path, { headers });
  return { status: response.status, location: response.headers.get("location"), reason: response.headers.get("x-mirror-skew-reason"), message: response.headers.get("x-mirror-skew-message"), body: await response.text() };
}

async function storedOffer(cluster: string) {
  return env.DB.prepare("SELECT version, offered_at FROM cluster_offers WHERE cluster_id = ? AND channel = 'stable'").bind(cluster).first<{ version: string; offered_at: string }>();
}

beforeEach(async () => {
  await resetMirror();
  await seedMirror("v1.22.4+k3s1");
});

describe("GET /v1-release/channels/:name with a caller version", () => {
  it("answers the channel's version when the caller says nothing", async () => {
    const answer = await lookup("/v1-release/channels/stable");
    expect(answer.status).toBe(302);
    expect(answer.location).toBe(`${TAG}v1.22.4+k3s1`);
    expect(answer.reason).toBeNull();
  });

  it("answers the next minor's newest patch to a caller four minors behind", async () => {
    const answer = await lookup("/v1-release/channels/stable?current=v1.18.20%2Bk3s1");
    expect(answer.status).toBe(302);
    expect(answer.location).toBe(`${TAG}v1.19.16+k3s1`);
    expect(answer.reason).toBe("one_minor_per_upgrade");
    expect(answer.body).toBe(`<a href="${TAG}v1.19.16+k3s1">Found</a>.\n\n`);
  });

  it("reads X-SUC-Latest-Version in the -k3sN spelling", async () => {
    const answer = await lookup("/v1-release/channels/stable", { "X-SUC-Latest-Version": "v1.20.15-k3s1" });
    expect(answer.status).toBe(302);
    expect(answer.location).toBe(`${TAG}v1.21.14+k3s1`);
  });

  it("never points below the caller's version", async () => {
    const answer = await lookup("/v1-release/channels/stable", { "X-SUC-Latest-Version": "v1.23.1-k3s1" });
    expect(answer.status).toBe(302);
    expect(answer.location).toBe(`${TAG}v1.23.1+k3s1`);
    expect(answer.reason).toBe("caller_ahead");
  });

  it("answers a caller one minor behind with the channel's version", async () => {
    const answer = await lookup("/v1-release/channels/stable?current=v1.21.14-k3s1");
    expect(answer.location).toBe(`${TAG}v1.22.4+k3s1`);
    expect(answer.reason).toBeNull();
  });

  it.each([
    ["/v1-release/channels/stable?current=1.21", {}, "v1.33.6+k3s1"],
    ["/v1-release/channels/stable", { "X-SUC-Latest-Version": "stable" }, "X-SUC-Latest-Version"],
    ["/v1-release/channels/stable?role=worker", {}, "role=agent"],
  ])("rejects %s with 400", async (path, headers, fix) => {
    const answer = await lookup(path, headers);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain(fix);
  });
});

describe("GET /v1-release/channels/:name for agents", () => {
  it("answers an agent join with the servers' version, not the channel's", async () => {
    await env.DB.prepare("UPDATE channel_state SET version = 'v1.20.5+k3s1' WHERE name = 'stable'").run();
    await seedNode("prod", "s1", "server", "v1.20.0+k3s2");

    const answer = await lookup("/v1-release/channels/stable?cluster=prod&role=agent");
    expect(answer.status).toBe(302);
    expect(answer.location).toBe(`${TAG}v1.20.0+k3s2`);
    expect(answer.reason).toBe("agent_follows_servers");
  });

  it("answers the oldest server's version when servers differ", async () => {
    await seedNode("prod", "s1", "server", "v1.21.14+k3s1");
    await seedNode("prod", "s2", "server", "v1.20.15+k3s1");
    const answer = await lookup("/v1-release/channels/stable?role=agent", { "X-SUC-Cluster-ID": "prod" });
    expect(answer.location).toBe(`${TAG}v1.20.15+k3s1`);
  });

  it("ignores servers not seen within the stale period", async () => {
    await seedNode("prod", "old", "server", "v1.18.20+k3s1", new Date(Date.now() - 400 * HOUR_MS).toISOString());
    await seedNode("prod", "s1", "server", "v1.21.14+k3s1");
    const answer = await lookup("/v1-release/channels/stable?cluster=prod&role=agent");
    expect(answer.location).toBe(`${TAG}v1.21.14+k3s1`);
  });

  it("keeps an agent newer than its servers on its own version", async () => {
    await seedNode("prod", "s1", "server", "v1.20.15+k3s1");
    const answer = await lookup("/v1-release/channels/stable?cluster=prod&role=agent&current=v1.21.14%2Bk3s1");
    expect(answer.location).toBe(`${TAG}v1.21.14+k3s1`);
    expect(answer.reason).toBe("agent_newer_than_servers");
  });
});

describe("GET /v1-release/channels/:name during a cluster rollout", () => {
  it("keeps Plans on one hop until servers run it", async () => {
    await seedNode("prod", "s1", "server", "v1.20.15+k3s1");
    await seedNode("prod", "s2", "server", "v1.20.15+k3s1");
    await seedNode("prod", "a1", "agent", "v1.20.15+k3s1");
    const plan = { "X-SUC-Cluster-ID": "prod", "X-SUC-Latest-Version": "v1.20.15-k3s1" };

    const server = await lookup("/v1-release/channels/stable", plan);
    const agentPlan = await lookup("/v1-release/channels/stable", plan);
    expect(server.location).toBe(`${TAG}v1.21.14+k3s1`);
    expect(agentPlan.location).toBe(server.location);
    expect((await storedOffer("prod"))?.version).toBe("v1.21.14+k3s1");

    await seedNode("prod", "s1", "server", "v1.21.14+k3s1");
    const halfway = await lookup("/v1-release/channels/stable", { "X-SUC-Cluster-ID": "prod", "X-SUC-Latest-Version": "v1.21.14-k3s1" });
    expect(halfway.location).toBe(`${TAG}v1.21.14+k3s1`);
    expect(halfway.reason).toBe("servers_not_on_offer");
    expect(halfway.message).toContain("s2");

    const agentRole = await lookup("/v1-release/channels/stable?role=agent", plan);
    expect(agentRole.location).toBe(`${TAG}v1.20.15+k3s1`);

    await seedNode("prod", "s2", "server", "v1.21.14+k3s1");
    const next = await lookup("/v1-release/channels/stable", { "X-SUC-Cluster-ID": "prod", "X-SUC-Latest-Version": "v1.21.14-k3s1" });
    expect(next.location).toBe(`${TAG}v1.22.4+k3s1`);
    expect((await storedOffer("prod"))?.version).toBe("v1.22.4+k3s1");
  });

  it("records the Plan's version on the cluster in the + spelling", async () => {
    await lookup("/v1-release/channels/stable", { "X-SUC-Cluster-ID": "uid-1234", "X-SUC-Latest-Version": "v1.20.15-k3s1" });
    const row = await env.DB.prepare("SELECT suc_latest_version, suc_seen_at FROM clusters WHERE id = 'uid-1234'").first<{ suc_latest_version: string; suc_seen_at: string }>();
    expect(row?.suc_latest_version).toBe("v1.20.15+k3s1");
    expect(row?.suc_seen_at).toBeTruthy();
  });

  it("advances a cluster without inventory only after the dwell time", async () => {
    const cluster = "uid-dwell";
    const first = await lookup("/v1-release/channels/stable", { "X-SUC-Cluster-ID": cluster, "X-SUC-Latest-Version": "v1.20.15-k3s1" });
    expect(first.location).toBe(`${TAG}v1.21.14+k3s1`);

    const reported = { "X-SUC-Cluster-ID": cluster, "X-SUC-Latest-Version": "v1.21.14-k3s1" };
    const held = await lookup("/v1-release/channels/stable", reported);
    expect(held.location).toBe(`${TAG}v1.21.14+k3s1`);
    expect(held.reason).toBe("dwell");

    const dayAgo = new Date(Date.now() - 25 * HOUR_MS).toISOString();
    await env.DB.prepare("UPDATE cluster_offers SET offered_at = ? WHERE cluster_id = ?").bind(dayAgo, cluster).run();
    const advanced = await lookup("/v1-release/channels/stable", reported);
    expect(advanced.location).toBe(`${TAG}v1.22.4+k3s1`);
  });

  it("waits for the Plan to report the offer even after the dwell time", async () => {
    const cluster = "uid-wait";
    await lookup("/v1-release/channels/stable", { "X-SUC-Cluster-ID": cluster, "X-SUC-Latest-Version": "v1.20.15-k3s1" });
    await env.DB.prepare("UPDATE cluster_offers SET offered_at = ? WHERE cluster_id = ?").bind(new Date(Date.now() - 48 * HOUR_MS).toISOString(), cluster).run();

    const answer = await lookup("/v1-release/channels/stable", { "X-SUC-Cluster-ID": cluster, "X-SUC-Latest-Version": "v1.20.15-k3s1" });
    expect(answer.location).toBe(`${TAG}v1.21.14+k3s1`);
    expect(answer.reason).toBe("waiting_for_plan");
  });

  it("holds servers back while an agent would lag too far", async () => {
    await env.DB.prepare("UPDATE channel_state SET version = 'v1.22.4+k3s1'").run();
    await seedNode("lagging", "s1", "server", "v1.20.15+k3s1");
    await seedNode("lagging", "a1", "agent", "v1.18.20+k3s1");
    const answer = await lookup("/v1-release/channels/stable?cluster=lagging&current=v1.20.15%2Bk3s1");
    expect(answer.location).toBe(`${TAG}v1.20.15+k3s1`);
    expect(answer.reason).toBe("agents_lag");
  });
});
