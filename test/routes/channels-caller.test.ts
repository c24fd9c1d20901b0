import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { ORIGIN, request, resetMirror } from "./helpers";

// Every channel endpoint reads the caller (cluster, version, role) with one rule: blank
// counts as absent, malformed is a 400 naming the parameter, the value and the form.

const TAG = `${ORIGIN}/k3s-io/k3s/releases/tag/`;
const PUBLISHED = ["v1.20.15+k3s1", "v1.21.14+k3s1", "v1.22.4+k3s1"];

type ErrorBody = { status: number; message: string };

beforeEach(async () => {
  await resetMirror();
  const statements = PUBLISHED.map((version) => env.DB.prepare("INSERT INTO publications (version, arch, published_at) VALUES (?, 'amd64', '2024-01-01T00:00:00Z')").bind(version));
  statements.push(env.DB.prepare("INSERT INTO channel_state (name, version, wanted, since, wanted_since) VALUES ('stable', 'v1.22.4+k3s1', 'v1.22.4+k3s1', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')"));
  await env.DB.batch(statements);
});

const MALFORMED: [string, Record<string, string>, string][] = [
  ["?current=1.21", {}, 'query parameter current "1.21" is invalid: send a complete K3s version, like v1.33.6+k3s1'],
  ["?current=v1.21.14+k3s", {}, 'query parameter current "v1.21.14 k3s" is invalid'],
  ["?cluster=a%2Fb", {}, 'query parameter cluster "a/b" is invalid: a cluster id is 1 to 128 characters of [A-Za-z0-9._-]'],
  ["?role=worker", {}, 'query parameter role "worker" is invalid: use role=server or role=agent'],
  ["", { "X-SUC-Cluster-ID": "kube system" }, 'header X-SUC-Cluster-ID "kube system" is invalid: a cluster id is'],
  ["", { "X-SUC-Latest-Version": "stable" }, 'header X-SUC-Latest-Version "stable" is invalid: send a complete K3s version'],
];

describe.each(["/v1-release/channels", "/v1-release/channel", "/v1-release/channels/stable"])("GET %s caller parameters", (path) => {
  it.each(MALFORMED)(`rejects %s %j with 400`, async (query, headers, message) => {
    const response = await request(`${path}${query}`, { headers });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toContain("application/json");
    const body = await response.json<ErrorBody>();
    expect(body.status).toBe(400);
    expect(body.message).toContain(message);
  });

  it("rejects cluster given twice", async () => {
    const response = await request(`${path}?cluster=a&cluster=b`);
    expect(response.status).toBe(400);
    expect((await response.json<ErrorBody>()).message).toContain('"cluster" is given 2 times');
  });

  it("reads blank values as absent", async () => {
    const response = await request(`${path}?cluster=&current=&role=`, { headers: { "X-SUC-Cluster-ID": " " } });
    expect(response.status).toBeLessThan(400);
  });

  it("accepts the version spellings clients send", async () => {
    for (const [query, headers] of [
      ["?current=v1.21.14+k3s1", {}],
      ["?current=v1.21.14%2Bk3s1", {}],
      ["?current=v1.21.14-k3s1", {}],
      ["", { "X-SUC-Cluster-ID": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "X-SUC-Latest-Version": "v1.21.14-k3s1" }],
    ] as const) {
      const response = await request(`${path}${query}`, { headers });
      expect(response.status, `${query} ${JSON.stringify(headers)}`).toBeLessThan(400);
    }
  });
});

describe("GET /v1-release/channels/:name caller parameters", () => {
  it("answers the next minor to X-SUC-Latest-Version in the -k3sN spelling", async () => {
    const response = await request("/v1-release/channels/stable", { headers: { "X-SUC-Cluster-ID": "uid-1", "X-SUC-Latest-Version": "v1.20.15-k3s1" } });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${TAG}v1.21.14+k3s1`);
  });

  it("answers the next minor to an unencoded + in current", async () => {
    const response = await request("/v1-release/channels/stable?current=v1.20.15+k3s1");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${TAG}v1.21.14+k3s1`);
  });
});
