import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { app } from "../../src/index";
import { adminRequest, ORIGIN, publish, request, resetMirror, seedChannelState, seedNode } from "./helpers";

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
  "v1.22.4+k3s2",
];
const HOUR_MS = 3_600_000;

async function seedMirror(stable: string) {
  await publish(PUBLISHED);
  await seedChannelState("stable", stable);
}

function report(body: unknown) {
  return request("/api/v1/report", { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "Content-Type": "application/json" } });
}

async function count(table: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first<{ n: number }>();
  return row!.n;
}

const VALID_REPORT = {
  cluster: "prod",
  node: "server-1",
  role: "server",
  phase: "after",
  versionBefore: "v1.20.15+k3s1",
  versionAfter: "v1.21.14-k3s1",
  outcome: "installed",
  overrideUsed: false,
};

beforeEach(async () => {
  await resetMirror();
  await seedMirror("v1.22.4+k3s1");
});

describe("POST /api/v1/report", () => {
  it("stores the report and the node's new version", async () => {
    const response = await report(VALID_REPORT);
    expect(response.status).toBe(204);

    const node = await env.DB.prepare("SELECT role, version FROM nodes WHERE cluster_id = 'prod' AND name = 'server-1'").first();
    expect(node).toEqual({ role: "server", version: "v1.21.14+k3s1" });
    const stored = await env.DB.prepare("SELECT phase, version_before, version_after, outcome, override_used FROM reports").first();
    expect(stored).toEqual({ phase: "after", version_before: "v1.20.15+k3s1", version_after: "v1.21.14+k3s1", outcome: "installed", override_used: 0 });
    expect(await count("clusters")).toBe(1);
  });

  it("keeps the running version from a before-report", async () => {
    await report({ ...VALID_REPORT, phase: "before", versionAfter: null, overrideUsed: true });
    const node = await env.DB.prepare("SELECT version FROM nodes WHERE name = 'server-1'").first<{ version: string }>();
    expect(node?.version).toBe("v1.20.15+k3s1");
    const stored = await env.DB.prepare("SELECT override_used FROM reports").first<{ override_used: number }>();
    expect(stored?.override_used).toBe(1);
  });

  it("accepts a fresh node with no version before", async () => {
    const response = await report({ ...VALID_REPORT, node: "agent-7", role: "agent", phase: "before", versionBefore: "", versionAfter: null, outcome: "started" });
    expect(response.status).toBe(204);
    const node = await env.DB.prepare("SELECT role, version FROM nodes WHERE name = 'agent-7'").first();
    expect(node).toEqual({ role: "agent", version: null });
  });

  it.each([
    ["a body that is not JSON", "cluster=prod"],
    ["a missing node", { ...VALID_REPORT, node: undefined }],
    ["an unknown role", { ...VALID_REPORT, role: "worker" }],
    ["an unknown phase", { ...VALID_REPORT, phase: "during" }],
    ["an unparseable version", { ...VALID_REPORT, versionAfter: "latest" }],
    ["a cluster id with a slash", { ...VALID_REPORT, cluster: "prod/1" }],
    ["an unknown field", { ...VALID_REPORT, versionbefore: "v1.20.15+k3s1" }],
    ["an override flag that is not boolean", { ...VALID_REPORT, overrideUsed: "maybe" }],
  ])("rejects %s with 400 and stores nothing", async (_case, body) => {
    const response = await report(body);
    expect(response.status).toBe(400);
    expect((await response.json<{ message: string }>()).message.length).toBeGreaterThan(10);
    expect(await count("reports")).toBe(0);
    expect(await count("nodes")).toBe(0);
    expect(await count("clusters")).toBe(0);
  });

  it("rejects a body over the size limit with 413", async () => {
    const response = await report({ ...VALID_REPORT, outcome: "x".repeat(20_000) });
    expect(response.status).toBe(413);
    expect(await count("reports")).toBe(0);
  });
});

describe("GET /api/v1/preflight", () => {
  it("refuses a server skipping minors, with the ladder of newest patches", async () => {
    const response = await request("/api/v1/preflight?cluster=prod&role=server&current=v1.18.20%2Bk3s1&target=v1.22.4%2Bk3s1");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    const text = await response.text();
    expect(text.startsWith('{"allowed":false,"reason":"skipped_minor","rule":"A server moves at most one minor version per upgrade.","message":"')).toBe(true);
    expect(text.endsWith(',"ladder":["v1.19.16+k3s1","v1.20.15+k3s1","v1.21.14+k3s1","v1.22.4+k3s1"],"target":"v1.22.4+k3s1"}\n')).toBe(true);
  });

  it("allows a one-minor upgrade", async () => {
    const response = await request("/api/v1/preflight?role=server&current=v1.21.14-k3s1&target=v1.22.4-k3s1");
    const text = await response.text();
    expect(text).toContain('"allowed":true');
    expect(JSON.parse(text)).toMatchObject({ reason: "minor_upgrade", ladder: ["v1.22.4+k3s1"], target: "v1.22.4+k3s1" });
  });

  it("refuses a downgrade of the K3s build", async () => {
    const body = await (await request("/api/v1/preflight?current=v1.22.4%2Bk3s2&target=v1.22.4%2Bk3s1")).json();
    expect(body).toMatchObject({ allowed: false, reason: "downgrade_build", ladder: [] });
  });

  it("resolves a target without build suffix to its newest published build", async () => {
    const body = await (await request("/api/v1/preflight?current=v1.21.14%2Bk3s1&target=1.22.4")).json();
    expect(body).toMatchObject({ allowed: true, target: "v1.22.4+k3s2" });
  });

  it("treats empty parameters as absent, as on a fresh node", async () => {
    const body = await (await request("/api/v1/preflight?cluster=&role=server&current=&target=v1.22.4%2Bk3s1")).json();
    expect(body).toMatchObject({ allowed: true, reason: "fresh_install" });
  });

  it("gives a joining agent its servers' version as the target", async () => {
    await seedNode("prod", "s1", "server", "v1.20.0+k3s2");
    const body = await (await request("/api/v1/preflight?cluster=prod&role=agent&current=")).json();
    expect(body).toMatchObject({ allowed: true, target: "v1.20.0+k3s2" });
  });

  it("refuses an agent newer than its servers", async () => {
    await seedNode("prod", "s1", "server", "v1.20.0+k3s2");
    const body = await (await request("/api/v1/preflight?cluster=prod&role=agent&target=v1.20.5%2Bk3s1")).json<{ allowed: boolean; reason: string; message: string }>();
    expect(body.allowed).toBe(false);
    expect(body.reason).toBe("agent_newer_than_server");
    expect(body.message).toContain("v1.20.0+k3s2");
  });

  it("ignores stale servers", async () => {
    await seedNode("prod", "gone", "server", "v1.19.16+k3s1", new Date(Date.now() - 200 * HOUR_MS).toISOString());
    await seedNode("prod", "s1", "server", "v1.21.14+k3s1");
    const body = await (await request("/api/v1/preflight?cluster=prod&role=server&current=v1.21.14%2Bk3s1&target=v1.22.4%2Bk3s1&node=s1")).json();
    expect(body).toMatchObject({ allowed: true });
  });

  it("applies the live policy's hop rules and blocked versions", async () => {
    const policy = {
      blocked: [{ version: "v1.19.16+k3s1", reason: "breaks flannel" }],
      hopRules: [{ from: "v1.20", to: "v1.21", minimumSource: "v1.20.15+k3s1", reason: "needs the v1.20.15 datastore migration" }],
    };
    await env.DB.prepare("INSERT INTO policy_revisions (document, author, comment, created_at) VALUES (?, 'test', 'skew rules', '2024-01-01T00:00:00Z')").bind(JSON.stringify(policy)).run();

    const ladder = await (await request("/api/v1/preflight?current=v1.18.20%2Bk3s1&target=v1.21.14%2Bk3s1")).json();
    expect(ladder).toMatchObject({ allowed: false, reason: "skipped_minor", ladder: ["v1.19.15+k3s2", "v1.20.15+k3s1", "v1.21.14+k3s1"] });

    const hop = await (await request("/api/v1/preflight?current=v1.20.5%2Bk3s1&target=v1.21.14%2Bk3s1")).json();
    expect(hop).toMatchObject({ allowed: false, reason: "hop_minimum_source", ladder: ["v1.20.15+k3s1", "v1.21.14+k3s1"] });
    expect((hop as { rule: string }).rule).toBe("To go from v1.20 to v1.21 a server must run at least v1.20.15+k3s1: needs the v1.20.15 datastore migration");
  });

  it.each([
    ["?current=v1.20&target=v1.22.4%2Bk3s1", "current"],
    ["?target=stable", "target"],
    ["?role=worker&target=v1.22.4%2Bk3s1", "role"],
    ["?cluster=a%2Fb&target=v1.22.4%2Bk3s1", "cluster"],
    ["?role=server", "target is missing"],
    ["?role=agent&cluster=empty", "no fresh server"],
    ["?target=v1.23.1", "no published build of v1.23.1"],
  ])("rejects %s with 400", async (query, fix) => {
    const response = await request(`/api/v1/preflight${query}`);
    expect(response.status).toBe(400);
    expect((await response.json<{ message: string }>()).message).toContain(fix);
  });
});

describe("GET /api/v1/clusters", () => {
  it("needs the admin token", async () => {
    expect((await request("/api/v1/clusters")).status).toBe(401);
    expect((await request("/api/v1/clusters/prod")).status).toBe(401);
  });

  it("lists nodes with stale flags, violations and the next safe hop", async () => {
    await seedNode("prod", "s1", "server", "v1.20.15+k3s1");
    await seedNode("prod", "s2", "server", "v1.21.14+k3s1");
    await seedNode("prod", "a1", "agent", "v1.21.14+k3s1");
    await seedNode("prod", "a2", "agent", "v1.18.20+k3s1", new Date(Date.now() - 500 * HOUR_MS).toISOString());

    const response = await adminRequest("/api/v1/clusters");
    expect(response.status).toBe(200);
    const body = await response.json<{ clusters: any[] }>();
    expect(body.clusters).toHaveLength(1);
    const cluster = body.clusters[0];
    expect(cluster.id).toBe("prod");
    expect(cluster.servers.map((node: any) => [node.name, node.version, node.stale])).toEqual([
      ["s1", "v1.20.15+k3s1", false],
      ["s2", "v1.21.14+k3s1", false],
    ]);
    expect(cluster.agents.map((node: any) => [node.name, node.stale])).toEqual([
      ["a1", false],
      ["a2", true],
    ]);
    expect(cluster.violations).toEqual([expect.objectContaining({ code: "agent_newer_than_server", nodes: ["a1", "s1"] })]);
    expect(cluster.nextHop).toMatchObject({ channel: "stable", channelVersion: "v1.22.4+k3s1", from: "v1.20.15+k3s1", version: "v1.21.14+k3s1" });
  });

  it("shows one cluster with its offers and reports", async () => {
    await report(VALID_REPORT);
    await request("/v1-release/channels/stable", { headers: { "X-SUC-Cluster-ID": "prod", "X-SUC-Latest-Version": "v1.21.14-k3s1" } });

    const body = await (await adminRequest("/api/v1/clusters/prod")).json<any>();
    expect(body.sucLatestVersion).toBe("v1.21.14+k3s1");
    expect(body.offers).toEqual([expect.objectContaining({ channel: "stable", version: "v1.22.4+k3s1" })]);
    expect(body.reports).toEqual([expect.objectContaining({ node: "server-1", versionAfter: "v1.21.14+k3s1", outcome: "installed" })]);
    expect(body.nextHop.version).toBe("v1.22.4+k3s1");
  });

  it("answers 404 for an unknown cluster", async () => {
    const response = await adminRequest("/api/v1/clusters/nobody");
    expect(response.status).toBe(404);
  });
});

describe("fleet routes in private mode", () => {
  const NODE_TOKEN = "fleet-node-token-0123456789";
  const PRIVATE_ENV = { ...env, NODE_TOKENS: `site:${NODE_TOKEN}` };
  const privateRequest = (path: string, init: RequestInit = {}) => app.fetch(new Request(`${ORIGIN}${path}`, init), PRIVATE_ENV);

  it("GET /api/v1/preflight needs the node token prefix", async () => {
    expect((await privateRequest("/api/v1/preflight?target=v1.22.4%2Bk3s1")).status).toBe(401);
    const response = await privateRequest(`/t/${NODE_TOKEN}/api/v1/preflight?target=v1.22.4%2Bk3s1`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('"allowed":true');
  });

  it("POST /api/v1/report needs the node token prefix", async () => {
    const init = { method: "POST", body: JSON.stringify(VALID_REPORT) };
    expect((await privateRequest("/api/v1/report", init)).status).toBe(401);
    expect(await count("reports")).toBe(0);
    expect((await privateRequest(`/t/${NODE_TOKEN}/api/v1/report`, init)).status).toBe(204);
    expect(await count("reports")).toBe(1);
  });
});
