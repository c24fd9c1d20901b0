import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { adminRequest, request, resetMirror } from "./helpers";

const VERSION = "v1.33.6+k3s1";
const MIB = 1024 * 1024;

function bytesOf(size: number, seed: number): Uint8Array {
  return new Uint8Array(size).map((_, index) => (index * seed) % 253);
}

/** SHA-256 as hex, written here rather than imported, so that the mirror's own hex encoding is what the tests check. */
async function hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

beforeEach(async () => {
  await resetMirror();
  await env.DB.prepare("DELETE FROM checksums").run();
});

describe("sync admin API", () => {
  it("GET /api/v1/status needs the admin token", async () => {
    expect((await request("/api/v1/status")).status).toBe(401);
  });

  it("POST /api/v1/sync needs the admin token", async () => {
    expect((await request("/api/v1/sync", { method: "POST" })).status).toBe(401);
  });

  it("POST /api/v1/sync rejects an unknown option", async () => {
    const response = await adminRequest("/api/v1/sync", { method: "POST", body: JSON.stringify({ retry: true }) });
    expect(response.status).toBe(400);
  });

  it("PUT /api/v1/files imports files over 1 MiB and publishes the arch", async () => {
    const binary = bytesOf(2 * MIB + 3, 13);
    const checksums = new TextEncoder().encode(`${await hex(binary)}  k3s\n`);
    const first = await adminRequest(`/api/v1/files/${encodeURIComponent(VERSION)}/sha256sum-amd64.txt`, { method: "PUT", body: checksums });
    expect(first.status).toBe(200);
    const second = await adminRequest(`/api/v1/files/${encodeURIComponent(VERSION)}/k3s`, { method: "PUT", body: binary });
    expect(second.status).toBe(200);
    const body = (await second.json()) as { sha256: string; published: unknown[] };
    expect(body.sha256).toBe(await hex(binary));
    expect(body.published).toEqual([{ version: VERSION, arch: "amd64" }]);

    const served = await request(`/k3s/${VERSION}/k3s`);
    expect(await hex(new Uint8Array(await served.arrayBuffer()))).toBe(await hex(binary));
  });

  it("PUT /api/v1/files rejects a mismatching file and records both hashes", async () => {
    const binary = bytesOf(1000, 5);
    const listed = "d".repeat(64);
    await adminRequest(`/api/v1/files/${encodeURIComponent(VERSION)}/sha256sum-amd64.txt`, { method: "PUT", body: `${listed}  k3s\n` });
    const response = await adminRequest(`/api/v1/files/${encodeURIComponent(VERSION)}/k3s`, { method: "PUT", body: binary });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { details: { expectedSha256: string; actualSha256: string } };
    expect(body.details.expectedSha256).toBe(listed);
    expect(body.details.actualSha256).toBe(await hex(binary));

    const status = (await (await adminRequest("/api/v1/status")).json()) as { versions: { version: string; arches: { arch: string; state: string }[] }[] };
    const entry = status.versions.find((version) => version.version === VERSION)!;
    expect(entry.arches.find((arch) => arch.arch === "amd64")!.state).toBe("failed");
    expect(await env.DB.prepare("SELECT COUNT(*) AS count FROM publications").first("count")).toBe(0);
    const objects = await env.FILES.list({ prefix: `releases/${VERSION}/k3s/` });
    expect(objects.objects).toEqual([]);
  });

  it("PUT /api/v1/files rejects an HTML checksum file", async () => {
    const response = await adminRequest(`/api/v1/files/${encodeURIComponent(VERSION)}/sha256sum-amd64.txt`, { method: "PUT", body: "<html><body>Not Found</body></html>\n" });
    expect(response.status).toBe(422);
    expect(((await response.json()) as { message: string }).message).toContain("HTML");
  });

  it("PUT /api/v1/files rejects a file name the mirror does not track", async () => {
    const response = await adminRequest(`/api/v1/files/${encodeURIComponent(VERSION)}/install.sh`, { method: "PUT", body: "#!/bin/sh\n" });
    expect(response.status).toBe(400);
  });

  it("PUT /api/v1/files logs an import whose channel refresh fails", async () => {
    // A stored channel config that is not JSON makes the refresh after the import fail.
    await env.DB.prepare("INSERT INTO channel_configs (document, source, imported_by, imported_at) VALUES ('not json', '', 'admin', '2024-01-01T00:00:00Z')").run();
    const checksums = `${"e".repeat(64)}  k3s\n`;

    const response = await adminRequest(`/api/v1/files/${encodeURIComponent(VERSION)}/sha256sum-amd64.txt`, { method: "PUT", body: checksums });
    expect(response.status).toBe(500);

    const stored = await env.DB.prepare("SELECT state FROM files WHERE version = ? AND name = 'sha256sum-amd64.txt'").bind(VERSION).first<{ state: string }>();
    expect(stored?.state).toBe("verified");
    const logged = await env.DB.prepare("SELECT label, action, detail FROM admin_log").all<{ label: string; action: string; detail: string }>();
    expect(logged.results).toHaveLength(1);
    expect(logged.results[0]!.action).toBe("files.import");
    expect(JSON.parse(logged.results[0]!.detail)).toEqual({ version: VERSION, file: "sha256sum-amd64.txt", size: checksums.length, ok: true });
  });

  it("GET /api/v1/files lists verified files for export", async () => {
    const binary = bytesOf(500, 3);
    await adminRequest(`/api/v1/files/${encodeURIComponent(VERSION)}/sha256sum-amd64.txt`, { method: "PUT", body: `${await hex(binary)}  k3s\n` });
    await adminRequest(`/api/v1/files/${encodeURIComponent(VERSION)}/k3s`, { method: "PUT", body: binary });
    const listing = (await (await adminRequest("/api/v1/files")).json()) as { files: { version: string; file: string; sha256: string }[] };
    expect(listing.files.map((file) => file.file)).toEqual(["k3s", "sha256sum-amd64.txt"]);
    const exported = await adminRequest(`/api/v1/files/${encodeURIComponent(VERSION)}/k3s`);
    expect(new Uint8Array(await exported.arrayBuffer())).toEqual(binary);
  });
});
