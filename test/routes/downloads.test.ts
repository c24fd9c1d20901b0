import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { toHex } from "../../src/sync/transfer";
import { request, resetMirror } from "./helpers";

const VERSION = "v1.33.6+k3s1";
const BYTES = new Uint8Array(4096).map((_, index) => (index * 7) % 256);
const VERIFIED_AT = "2025-11-20T10:00:00.000Z";
let sha256 = "";

async function seedFile(version: string, name: string, bytes: Uint8Array, state: "verified" | "pending" | "failed") {
  const key = `releases/${version}/${name}/upload-1`;
  const hash = toHex(await crypto.subtle.digest("SHA-256", bytes));
  if (state === "verified") await env.FILES.put(key, bytes);
  await env.DB.prepare(
    "INSERT INTO files (version, name, arch, state, size, sha256, verified_at, updated_at, object_key) VALUES (?, ?, 'amd64', ?, ?, ?, ?, ?, ?)",
  )
    .bind(version, name, state, bytes.byteLength, state === "verified" ? hash : null, state === "verified" ? VERIFIED_AT : null, VERIFIED_AT, state === "verified" ? key : null)
    .run();
  return hash;
}

beforeEach(async () => {
  await resetMirror();
  await env.DB.prepare("DELETE FROM checksums").run();
  sha256 = await seedFile(VERSION, "k3s", BYTES, "verified");
  await seedFile(VERSION, "sha256sum-amd64.txt", new TextEncoder().encode(`${sha256}  k3s\n`), "verified");
  await seedFile(VERSION, "k3s-arm64", BYTES, "failed");
  await env.DB.prepare("UPDATE files SET error = 'SHA-256 mismatch' WHERE name = 'k3s-arm64'").run();
  await env.DB.prepare("INSERT INTO publications (version, arch, published_at) VALUES (?, 'amd64', ?)").bind(VERSION, VERIFIED_AT).run();
});

describe("downloads", () => {
  it("GET /k3s-io/k3s/releases/download/:version/:file streams the verified file", async () => {
    const response = await request(`/k3s-io/k3s/releases/download/${VERSION}/k3s`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    expect(response.headers.get("content-length")).toBe(String(BYTES.byteLength));
    expect(response.headers.get("etag")).toBe(`"${sha256}"`);
    expect(response.headers.get("last-modified")).toBe(new Date(VERIFIED_AT).toUTCString());
    expect(response.headers.get("accept-ranges")).toBe("bytes");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(BYTES);
  });

  it("GET /k3s/:version/:file accepts +, %2B and -k3sN", async () => {
    for (const spelling of ["v1.33.6+k3s1", "v1.33.6%2Bk3s1", "v1.33.6%2bk3s1", "v1.33.6-k3s1"]) {
      for (const prefix of ["/k3s", "/k3s-io/k3s/releases/download"]) {
        const response = await request(`${prefix}/${spelling}/k3s`);
        expect(response.status, `${prefix}/${spelling}`).toBe(200);
        expect(response.headers.get("etag")).toBe(`"${sha256}"`);
        await response.arrayBuffer();
      }
    }
  });

  it("HEAD /k3s/:version/:file sends the headers without a body", async () => {
    const response = await request(`/k3s/${VERSION}/k3s`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe(String(BYTES.byteLength));
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it("GET /k3s/:version/:file answers 206 to a single Range", async () => {
    const response = await request(`/k3s/${VERSION}/k3s`, { headers: { Range: "bytes=100-299" } });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes 100-299/${BYTES.byteLength}`);
    expect(response.headers.get("content-length")).toBe("200");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(BYTES.subarray(100, 300));
  });

  it("GET /k3s/:version/:file answers 206 to a suffix Range", async () => {
    const response = await request(`/k3s/${VERSION}/k3s`, { headers: { Range: "bytes=-10" } });
    expect(response.status).toBe(206);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(BYTES.subarray(BYTES.byteLength - 10));
  });

  it("GET /k3s/:version/:file answers 416 past the end", async () => {
    const response = await request(`/k3s/${VERSION}/k3s`, { headers: { Range: `bytes=${BYTES.byteLength}-` } });
    expect(response.status).toBe(416);
    expect(response.headers.get("content-range")).toBe(`bytes */${BYTES.byteLength}`);
  });

  it("GET /k3s/:version/:file ignores a Range when If-Range names another ETag", async () => {
    const response = await request(`/k3s/${VERSION}/k3s`, { headers: { Range: "bytes=0-9", "If-Range": '"other"' } });
    expect(response.status).toBe(200);
    expect((await response.arrayBuffer()).byteLength).toBe(BYTES.byteLength);
  });

  it("GET /k3s/:version/:file answers 304 to If-None-Match", async () => {
    const response = await request(`/k3s/${VERSION}/k3s`, { headers: { "If-None-Match": `"${sha256}"` } });
    expect(response.status).toBe(304);
    expect(response.headers.get("etag")).toBe(`"${sha256}"`);
  });

  it("GET /k3s/:version/:file answers 304 to If-Modified-Since", async () => {
    const response = await request(`/k3s/${VERSION}/k3s`, { headers: { "If-Modified-Since": new Date(VERIFIED_AT).toUTCString() } });
    expect(response.status).toBe(304);
    const older = await request(`/k3s/${VERSION}/k3s`, { headers: { "If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT" } });
    expect(older.status).toBe(200);
    await older.arrayBuffer();
  });

  it("GET /k3s/:version/:file serves checksum files as text", async () => {
    const response = await request(`/k3s/${VERSION}/sha256sum-amd64.txt`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(`${sha256}  k3s\n`);
  });

  it("GET /k3s/:version/:file answers 404 for a failed file, naming what is available", async () => {
    const response = await request(`/k3s/${VERSION}/k3s-arm64`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { message: string; details: { available: string[]; state: string; publishedArches: string[] } };
    expect(body.message).toBe(`${VERSION}/k3s-arm64 could not be mirrored (SHA-256 mismatch); a later sync retries it; available for ${VERSION}: k3s, sha256sum-amd64.txt`);
    expect(body.details.state).toBe("failed");
    expect(body.details.publishedArches).toEqual(["amd64"]);
  });

  it("GET /k3s/:version/:file answers 404 for a version not mirrored", async () => {
    const response = await request("/k3s/v1.20.0+k3s1/k3s");
    expect(response.status).toBe(404);
    expect(((await response.json()) as { message: string }).message).toBe(`v1.20.0+k3s1 is not mirrored; mirrored versions include ${VERSION}`);
  });

  it("GET /k3s/:version/:file answers 404 for a channel name as version", async () => {
    const response = await request("/k3s-io/k3s/releases/download/stable/sha256sum-amd64.txt");
    expect(response.status).toBe(404);
    expect(((await response.json()) as { message: string }).message).toContain('"stable" is not a K3s version');
  });

  it("GET /k3s-io/k3s/releases/tag/:version shows each arch's state", async () => {
    const response = await request(`/k3s-io/k3s/releases/tag/${VERSION}`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain(`<li>amd64: published ${VERIFIED_AT}</li>`);
    expect(html).toMatch(/<li>arm64: failed: k3s-arm64: /);
    expect(html).toContain("<li>arm: pending, missing sha256sum-arm.txt (release-unknown), k3s-armhf (release-unknown)</li>");
  });
});
