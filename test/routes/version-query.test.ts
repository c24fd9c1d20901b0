import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { ORIGIN, request, resetMirror } from "./helpers";

// Versions in query strings, as people type them into curl: a literal `+` reaches the
// mirror as a space, because a query string encodes a space as `+`.

const PUBLISHED = ["v1.18.20+k3s1", "v1.19.16+k3s1", "v1.20.15+k3s1", "v1.21.14+k3s1", "v1.22.4+k3s1"];
const TAG = `${ORIGIN}/k3s-io/k3s/releases/tag/`;

type Preflight = { allowed: boolean; reason: string; target: string };
type ErrorBody = { message: string };

beforeEach(async () => {
  await resetMirror();
  const statements = PUBLISHED.map((version) => env.DB.prepare("INSERT INTO publications (version, arch, published_at) VALUES (?, 'amd64', '2024-01-01T00:00:00Z')").bind(version));
  statements.push(env.DB.prepare("INSERT INTO channel_state (name, version, wanted, since, wanted_since) VALUES ('stable', 'v1.22.4+k3s1', 'v1.22.4+k3s1', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')"));
  await env.DB.batch(statements);
});

describe("GET /api/v1/preflight with versions in the query", () => {
  it("reads an unencoded + as the build separator", async () => {
    const response = await request("/api/v1/preflight?current=v1.18.20+k3s1&target=v1.22.4+k3s1");
    expect(response.status).toBe(200);
    const body = await response.json<Preflight>();
    expect(body.reason).toBe("skipped_minor");
    expect(body.target).toBe("v1.22.4+k3s1");
  });

  it.each([
    ["?current=garbage&target=v1.22.4%2Bk3s1", '"garbage"'],
    ["?target=%24(id)", '"$(id)"'],
    ["?role=worker&target=v1.22.4%2Bk3s1", '"worker"'],
    ["?cluster=a%2Fb&target=v1.22.4%2Bk3s1", '"a/b"'],
    ["?node=-bad&target=v1.22.4%2Bk3s1", '"-bad"'],
  ])("names the rejected value of %s", async (query, shown) => {
    const response = await request(`/api/v1/preflight${query}`);
    expect(response.status).toBe(400);
    expect((await response.json<ErrorBody>()).message).toContain(shown);
  });

  it("rejects a parameter given twice", async () => {
    const response = await request("/api/v1/preflight?target=v1.19.16%2Bk3s1&current=v1.18.20%2Bk3s1&target=v1.22.4%2Bk3s1");
    expect(response.status).toBe(400);
    expect((await response.json<ErrorBody>()).message).toContain('"target" is given 2 times');
  });
});

describe("GET /v1-release/channels/:name with a version in the query", () => {
  it("reads an unencoded + in current", async () => {
    const response = await request("/v1-release/channels/stable?current=v1.18.20+k3s1");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${TAG}v1.19.16+k3s1`);
  });

  it("rejects current given twice", async () => {
    const response = await request("/v1-release/channels/stable?current=v1.21.14%2Bk3s1&current=v1.18.20%2Bk3s1");
    expect(response.status).toBe(400);
    expect((await response.json<ErrorBody>()).message).toContain('"current" is given 2 times');
  });
});

describe("GET /api/v1/versions/resolve query problems", () => {
  it.each([
    ["?version=1.22.4&arch=x86", 'arch="x86" is invalid: it must be one of amd64, arm64, arm, s390x'],
    ["?version=1.22.4&cluster=%24x", 'cluster="$x" is invalid: it must be a cluster id of 1 to 128 characters [A-Za-z0-9._-]'],
    ["?version=1.22.4&channel=stable", 'unknown query parameter "channel"; this endpoint takes version, arch and cluster'],
  ])("explains %s", async (query, message) => {
    const response = await request(`/api/v1/versions/resolve${query}`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(message);
  });
});
