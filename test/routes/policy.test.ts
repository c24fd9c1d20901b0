import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { app } from "../../src/index";
import { insertPolicyRevisionStatement, policyAdminLogStatement } from "../../src/storage/policy";
import { adminRequest, githubRelease, importChannelConfig, importReleases, ORIGIN, POLICY_TEST_CHANNEL_CONFIG, request, resetMirror } from "./helpers";

const CHANNEL_CONFIG = POLICY_TEST_CHANNEL_CONFIG;

const RELEASES = [
  githubRelease("v1.31.2+k3s1", "2026-02-20T00:00:00Z"),
  githubRelease("v1.31.1+k3s1", "2026-02-01T00:00:00Z"),
  githubRelease("v1.30.4+k3s1", "2026-01-20T00:00:00Z"),
  githubRelease("v1.30.3+k3s1", "2026-01-01T00:00:00Z"),
];

async function publish(...versions: string[]) {
  await env.DB.batch(versions.map((version) => env.DB.prepare("INSERT INTO publications (version, arch, published_at) VALUES (?, 'amd64', '2026-01-01T00:00:00Z')").bind(version)));
  // An empty release import recomputes channel states, as a sync step does after publishing.
  expect((await importReleases([])).status).toBe(200);
}

function putPolicy(body: string | object, query = "", headers: Record<string, string> = {}): Promise<Response> {
  return adminRequest(`/api/v1/policy${query}`, { method: "PUT", body: typeof body === "string" ? body : JSON.stringify(body), headers });
}

async function channelVersions(path = "/v1-release/channels", init: RequestInit = {}): Promise<Record<string, string | undefined>> {
  const body = await (await request(path, init)).json<{ data: Array<{ name: string; latest?: string }> }>();
  return Object.fromEntries(body.data.map((item) => [item.name, item.latest]));
}

type ErrorBody = { code: string; message: string; details: { problems: Array<{ field: string; message: string }> } };

beforeEach(async () => {
  await resetMirror();
  expect((await importChannelConfig(CHANNEL_CONFIG)).status).toBe(200);
  expect((await importReleases(RELEASES)).status).toBe(200);
  await publish("v1.30.3+k3s1", "v1.30.4+k3s1", "v1.31.1+k3s1", "v1.31.2+k3s1");
});

describe("GET /api/v1/policy", () => {
  it("answers the empty policy before any change", async () => {
    const response = await adminRequest("/api/v1/policy");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ revision: null, policy: {} });
  });

  it("requires the admin token", async () => {
    const response = await request("/api/v1/policy");
    expect(response.status).toBe(401);
  });

  it("answers YAML with format=yaml", async () => {
    await putPolicy({ defaultChannel: "latest" });
    const response = await adminRequest("/api/v1/policy?format=yaml");
    expect(response.headers.get("content-type")).toBe("application/yaml; charset=utf-8");
    expect(await response.text()).toBe("defaultChannel: latest\n");
  });
});

describe("PUT /api/v1/policy", () => {
  it("stores a revision with author, comment and document", async () => {
    const response = await putPolicy({ channels: { stable: { pin: "v1.30.3+k3s1" } } }, "?comment=hold%20stable");
    expect(response.status).toBe(200);
    const body = await response.json<{ changed: boolean; revision: { id: number; author: string; comment: string; rollbackOf: null } }>();
    expect(body.changed).toBe(true);
    expect(body.revision).toMatchObject({ author: "admin", comment: "hold stable", rollbackOf: null });

    const live = await (await adminRequest("/api/v1/policy")).json<{ revision: { id: number }; policy: unknown }>();
    expect(live.revision.id).toBe(body.revision.id);
    expect(live.policy).toEqual({ channels: { stable: { pin: "v1.30.3+k3s1" } } });
  });

  it("accepts YAML", async () => {
    const response = await putPolicy("defaultChannel: v1.31\nchannels:\n  latest:\n    hide: true\n");
    expect(response.status).toBe(200);
    expect((await response.json<{ policy: unknown }>()).policy).toEqual({ defaultChannel: "v1.31", channels: { latest: { hide: true } } });
  });

  it("rejects a pin to an unpublished version and stores nothing", async () => {
    const response = await putPolicy({ channels: { stable: { pin: "v1.30.9+k3s1" } } });
    expect(response.status).toBe(400);
    const body = await response.json<ErrorBody>();
    expect(body.code).toBe("InvalidPolicy");
    expect(body.message).toMatch(/^policy rejected, nothing was stored: channels\.stable\.pin: pins v1\.30\.9\+k3s1, which is not published/);
    expect(body.details.problems).toEqual([{ field: "channels.stable.pin", message: expect.stringContaining("allowPending=true") }]);

    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM policy_revisions").first<{ n: number }>())!.n).toBe(0);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM admin_log WHERE action LIKE 'policy.%'").first<{ n: number }>())!.n).toBe(0);
  });

  it("rejects a pin to a blocked version", async () => {
    const response = await putPolicy({ channels: { stable: { pin: "v1.30.3+k3s1" } }, blocked: [{ version: "v1.30.3+k3s1", reason: "kube-proxy crash" }] });
    expect(response.status).toBe(400);
    const body = await response.json<ErrorBody>();
    expect(body.details.problems[0]).toEqual({ field: "channels.stable.pin", message: 'pins v1.30.3+k3s1, which is blocked by "v1.30.3+k3s1" (kube-proxy crash); pin another version or unblock it' });
  });

  it("rejects a follow of a missing channel", async () => {
    const body = await (await putPolicy({ channels: { stable: { follow: "v1.29" } } })).json<ErrorBody>();
    expect(body.details.problems[0]!.field).toBe("channels.stable.follow");
  });

  it("rejects a cluster group naming a missing channel", async () => {
    const body = await (await putPolicy({ clusterGroups: [{ name: "edge", patterns: ["edge-*"], channel: "edge" }] })).json<ErrorBody>();
    expect(body.details.problems[0]!.field).toBe("clusterGroups[0].channel");
  });

  it("rejects overlapping patterns with different channels", async () => {
    const response = await putPolicy({
      clusterGroups: [
        { name: "prod", patterns: ["prod-*"], channel: "stable" },
        { name: "eu", patterns: ["*-eu"], channel: "latest" },
      ],
    });
    expect(response.status).toBe(400);
    const body = await response.json<ErrorBody>();
    expect(body.details.problems[0]!.field).toBe("clusterGroups[1].patterns[0]");
  });

  it("rejects a document that is not JSON or YAML", async () => {
    const response = await putPolicy("channels: [unclosed");
    expect(response.status).toBe(400);
    expect((await response.json<ErrorBody>()).message).toMatch(/^policy body is not valid JSON or YAML/);
  });

  it("rejects unknown fields with their path", async () => {
    const body = await (await putPolicy({ channel: {} })).json<ErrorBody>();
    expect(body.details.problems).toEqual([{ field: "(document)", message: "unknown field(s) channel" }]);
  });

  it("keeps a pending pin's channel on its answer until the pin is published", async () => {
    expect((await putPolicy({ channels: { stable: { pin: "v1.30.5+k3s1" } } }, "?allowPending=true")).status).toBe(200);
    const stored = await (await adminRequest("/api/v1/policy")).json<{ policy: { channels: { stable: unknown } } }>();
    expect(stored.policy.channels.stable).toEqual({ pin: "v1.30.5+k3s1", whilePending: "v1.30.4+k3s1" });
    expect((await channelVersions()).stable).toBe("v1.30.4+k3s1");

    await importReleases([githubRelease("v1.30.5+k3s1", "2026-02-25T00:00:00Z")]);
    await publish("v1.30.5+k3s1");
    expect((await channelVersions()).stable).toBe("v1.30.5+k3s1");
  });

  it("stores nothing when the document equals the live one", async () => {
    await putPolicy({ defaultChannel: "latest" });
    const response = await putPolicy({ defaultChannel: "latest" });
    expect((await response.json<{ changed: boolean }>()).changed).toBe(false);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM policy_revisions").first<{ n: number }>())!.n).toBe(1);
  });

  it("answers 409 when baseRevision is not the live revision", async () => {
    await putPolicy({ defaultChannel: "latest" });
    const response = await putPolicy({ defaultChannel: "v1.31" }, "?baseRevision=999");
    expect(response.status).toBe(409);
  });

  it("logs the change with the admin token's label", async () => {
    const labelledEnv = { ...env, ADMIN_TOKEN: undefined, ADMIN_TOKENS: "alice:alice-token-0123456789" };
    const response = await app.fetch(
      new Request(`${ORIGIN}/api/v1/policy?comment=first`, { method: "PUT", body: '{"defaultChannel":"latest"}', headers: { Authorization: "Bearer alice-token-0123456789" } }),
      labelledEnv,
    );
    expect(response.status).toBe(200);
    expect((await response.json<{ revision: { author: string } }>()).revision.author).toBe("alice");
    const log = await env.DB.prepare("SELECT label, action, detail FROM admin_log WHERE action LIKE 'policy.%'").all<{ label: string; action: string; detail: string }>();
    expect(log.results.map((row) => [row.label, row.action])).toEqual([["alice", "policy.update"]]);
    expect(JSON.parse(log.results[0]!.detail)).toMatchObject({ comment: "first", changes: ["defaultChannel"] });
  });

  it("fills a freeze with the current answers and holds them", async () => {
    const response = await putPolicy({ freeze: { reason: "year-end freeze" } });
    const policy = (await response.json<{ policy: { freeze: { since: string; versions: Record<string, string> } } }>()).policy;
    expect(policy.freeze.versions).toEqual({ stable: "v1.30.4+k3s1", latest: "v1.31.2+k3s1", "v1.30": "v1.30.4+k3s1", "v1.31": "v1.31.2+k3s1" });
    expect(Number.isNaN(Date.parse(policy.freeze.since))).toBe(false);

    await importReleases([githubRelease("v1.31.3+k3s1", "2026-02-26T00:00:00Z")]);
    await publish("v1.31.3+k3s1");
    const answers = await channelVersions();
    expect(answers.latest).toBe("v1.31.2+k3s1");
    expect(answers["v1.31"]).toBe("v1.31.2+k3s1");
  });

  it("moves channels off a blocked version and warns", async () => {
    const response = await putPolicy({ blocked: [{ version: "v1.31.2+k3s1", reason: "flannel regression" }] });
    expect(response.status).toBe(200);
    const body = await response.json<{ warnings: Array<{ field: string }> }>();
    expect(body.warnings.map((warning) => warning.field)).toEqual(["channels.latest", 'channels["v1.31"]']);
    const answers = await channelVersions();
    expect(answers.latest).toBe("v1.31.1+k3s1");
    expect(answers["v1.31"]).toBe("v1.31.1+k3s1");
  });
});

describe("POST /api/v1/policy/validate", () => {
  it("lists problems without storing", async () => {
    const response = await adminRequest("/api/v1/policy/validate", { method: "POST", body: JSON.stringify({ defaultChannel: "prod" }) });
    expect(response.status).toBe(200);
    const body = await response.json<{ valid: boolean; problems: Array<{ field: string }> }>();
    expect(body.valid).toBe(false);
    expect(body.problems.map((problem) => problem.field)).toEqual(["defaultChannel"]);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM policy_revisions").first<{ n: number }>())!.n).toBe(0);
  });

  it("previews the effective channels of a valid policy", async () => {
    const response = await adminRequest("/api/v1/policy/validate", { method: "POST", body: "channels:\n  stable:\n    follow: v1.31\n" });
    const body = await response.json<{ valid: boolean; effective: { channels: Array<{ name: string; version: string }> } }>();
    expect(body.valid).toBe(true);
    expect(body.effective.channels.find((channel) => channel.name === "stable")!.version).toBe("v1.31.2+k3s1");
  });

  it("reports schema problems as invalid", async () => {
    const body = await (await adminRequest("/api/v1/policy/validate", { method: "POST", body: '{"blocked":[{"reason":"x"}]}' })).json<{ valid: boolean; problems: Array<{ field: string }> }>();
    expect(body.valid).toBe(false);
    expect(body.problems[0]!.field).toBe("blocked[0].version");
  });
});

describe("GET /api/v1/policy/schema", () => {
  it("answers the JSON Schema without a token", async () => {
    const response = await request("/api/v1/policy/schema");
    expect(response.status).toBe(200);
    const schema = await response.json<{ $schema: string; properties: Record<string, unknown> }>();
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(Object.keys(schema.properties)).toContain("clusterGroups");
  });
});

describe("GET /api/v1/policy/history", () => {
  it("lists revisions newest first", async () => {
    await putPolicy({ defaultChannel: "latest" }, "?comment=one");
    await putPolicy({ defaultChannel: "v1.31" }, "?comment=two");
    const body = await (await adminRequest("/api/v1/policy/history")).json<{ revisions: Array<{ comment: string; author: string; createdAt: string }> }>();
    expect(body.revisions.map((revision) => revision.comment)).toEqual(["two", "one"]);
    expect(body.revisions[0]!.author).toBe("admin");
  });

  it("pages with limit and before", async () => {
    const changes: Array<[string, string]> = [
      ["a", "v1.30"],
      ["b", "latest"],
      ["c", "v1.31"],
    ];
    for (const [comment, defaultChannel] of changes) await putPolicy({ defaultChannel }, `?comment=${comment}`);
    const first = await (await adminRequest("/api/v1/policy/history?limit=2")).json<{ revisions: Array<{ id: number; comment: string }> }>();
    expect(first.revisions.map((revision) => revision.comment)).toEqual(["c", "b"]);
    const next = await (await adminRequest(`/api/v1/policy/history?limit=2&before=${first.revisions[1]!.id}`)).json<{ revisions: Array<{ comment: string }> }>();
    expect(next.revisions.map((revision) => revision.comment)).toEqual(["a"]);
  });

  it("rejects a limit out of range", async () => {
    expect((await adminRequest("/api/v1/policy/history?limit=0")).status).toBe(400);
  });
});

describe("GET /api/v1/policy/diff", () => {
  it("lists the paths that changed between two revisions", async () => {
    const first = await (await putPolicy({ channels: { stable: { pin: "v1.30.3+k3s1" } } })).json<{ revision: { id: number } }>();
    const second = await (await putPolicy({ channels: { stable: { pin: "v1.30.4+k3s1" } }, defaultChannel: "latest" })).json<{ revision: { id: number } }>();
    const response = await adminRequest(`/api/v1/policy/diff?from=${first.revision.id}&to=${second.revision.id}`);
    expect(response.status).toBe(200);
    expect((await response.json<{ changes: unknown[] }>()).changes).toEqual([
      { op: "change", path: "channels.stable.pin", oldValue: "v1.30.3+k3s1", value: "v1.30.4+k3s1" },
      { op: "add", path: "defaultChannel", value: "latest" },
    ]);
  });

  it("diffs from the empty policy to the live one", async () => {
    await putPolicy({ defaultChannel: "latest" });
    const body = await (await adminRequest("/api/v1/policy/diff?from=0")).json<{ to: string; changes: unknown[] }>();
    expect(body.to).toBe("live");
    expect(body.changes).toEqual([{ op: "add", path: "defaultChannel", value: "latest" }]);
  });

  it("answers 404 for an unknown revision", async () => {
    expect((await adminRequest("/api/v1/policy/diff?from=42")).status).toBe(404);
  });

  it("answers 400 without from", async () => {
    expect((await adminRequest("/api/v1/policy/diff")).status).toBe(400);
  });
});

describe("POST /api/v1/policy/rollback", () => {
  it("restores an old revision as a new one", async () => {
    const first = await (await putPolicy({ channels: { stable: { pin: "v1.30.3+k3s1" } } })).json<{ revision: { id: number } }>();
    await putPolicy({ channels: { stable: { follow: "v1.31" } } });
    expect((await channelVersions()).stable).toBe("v1.31.2+k3s1");

    const response = await adminRequest("/api/v1/policy/rollback", { method: "POST", body: JSON.stringify({ revision: first.revision.id, comment: "undo follow" }) });
    expect(response.status).toBe(200);
    const body = await response.json<{ revision: { id: number; rollbackOf: number; comment: string }; policy: unknown }>();
    expect(body.revision.rollbackOf).toBe(first.revision.id);
    expect(body.revision.id).toBeGreaterThan(first.revision.id + 1);
    expect(body.revision.comment).toBe("undo follow");
    expect(body.policy).toEqual({ channels: { stable: { pin: "v1.30.3+k3s1" } } });
    expect((await channelVersions()).stable).toBe("v1.30.3+k3s1");

    const log = await env.DB.prepare("SELECT action FROM admin_log WHERE action LIKE 'policy.%' ORDER BY id").all<{ action: string }>();
    expect(log.results.map((row) => row.action)).toEqual(["policy.update", "policy.update", "policy.rollback"]);
  });

  it("rejects a rollback to a revision that no longer fits", async () => {
    const first = await (await putPolicy({ channels: { stable: { pin: "v1.30.3+k3s1" } } })).json<{ revision: { id: number } }>();
    await env.DB.prepare("DELETE FROM publications WHERE version = 'v1.30.3+k3s1'").run();
    const response = await adminRequest("/api/v1/policy/rollback", { method: "POST", body: JSON.stringify({ revision: first.revision.id }) });
    expect(response.status).toBe(400);
    expect((await response.json<ErrorBody>()).message).toMatch(new RegExp(`^revision ${first.revision.id} no longer fits the mirror's state, nothing was stored`));
  });

  it("answers 404 for an unknown revision", async () => {
    const response = await adminRequest("/api/v1/policy/rollback", { method: "POST", body: JSON.stringify({ revision: 77 }) });
    expect(response.status).toBe(404);
  });
});

describe("GET /api/v1/policy/effective", () => {
  it("shows a cluster's channels with their reasons", async () => {
    await putPolicy({ clusterGroups: [{ name: "canary", clusters: ["uid-1"], channel: "latest" }] });
    const body = await (await adminRequest("/api/v1/policy/effective?cluster=uid-1")).json<{
      defaultChannel: string;
      group: { name: string };
      channels: Array<{ name: string; version: string; reasons: Array<{ kind: string }> }>;
    }>();
    expect(body.defaultChannel).toBe("latest");
    expect(body.group.name).toBe("canary");
    const stable = body.channels.find((channel) => channel.name === "stable")!;
    expect(stable.version).toBe("v1.31.2+k3s1");
    expect(stable.reasons.map((reason) => reason.kind)).toEqual(["channel-config", "cluster-group"]);
  });
});

describe("policy revision storage", () => {
  it("stores nothing and logs nothing when the live revision moved", async () => {
    await putPolicy({ defaultChannel: "latest" });
    const now = "2026-03-01T00:00:00.000Z";
    const [insert, log] = await env.DB.batch([
      insertPolicyRevisionStatement(env.DB, { document: { defaultChannel: "v1.31" }, author: "admin", comment: "stale", createdAt: now, rollbackOf: null }, null),
      policyAdminLogStatement(env.DB, "admin", "policy.update", {}, now),
    ]);
    expect(insert!.meta.changes).toBe(0);
    expect(log!.meta.changes).toBe(0);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM policy_revisions").first<{ n: number }>())!.n).toBe(1);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM admin_log WHERE action = 'policy.update'").first<{ n: number }>())!.n).toBe(1);
  });
});
