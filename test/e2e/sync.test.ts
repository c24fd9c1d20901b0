import { createHash } from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { PROJECT_ROOT, startMirrorProcess, type MirrorProcess } from "../support/mirror-process";
import { run } from "../support/run";

const NEW = "v1.33.6+k3s1";
const OLD = "v1.33.5+k3s1";
const PREVIOUS_MINOR = "v1.32.9+k3s1";
const INSTALLER = "#!/bin/sh\n# installer stand-in for sync tests\necho installed\n";

async function postSync(mirror: MirrorProcess, body = ""): Promise<{ status: number; json: any }> {
  const result = await run("curl", ["-sS", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "-H", `Authorization: Bearer ${mirror.adminToken}`, "--data-binary", body, `${mirror.url}/api/v1/sync`]);
  const lines = result.stdout.trimEnd().split("\n");
  const status = Number(lines.pop());
  return { status, json: JSON.parse(lines.join("\n")) };
}

async function getStatus(mirror: MirrorProcess): Promise<any> {
  const result = await run("curl", ["-sS", "-f", "-H", `Authorization: Bearer ${mirror.adminToken}`, `${mirror.url}/api/v1/status`]);
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout);
}

async function syncUntilDone(mirror: MirrorProcess, maxSteps = 20): Promise<any[]> {
  const steps: any[] = [];
  for (let step = 0; step < maxSteps; step += 1) {
    const { status, json } = await postSync(mirror);
    expect(status).toBe(200);
    steps.push(json);
    if (json.done) return steps;
  }
  throw new Error(`sync not done after ${maxSteps} steps: ${JSON.stringify(steps.at(-1))}`);
}

describe("sync from a fake upstream", () => {
  let upstream: FakeUpstream;
  let mirror: MirrorProcess;
  let steps: any[];
  let scratch: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream({
      releases: [
        { version: NEW, publishedAt: "2025-11-20T00:00:00Z", fileSize: 256 * 1024 },
        { version: OLD, publishedAt: "2025-10-20T00:00:00Z" },
        { version: "v1.33.4+k3s1", publishedAt: "2025-09-20T00:00:00Z" },
        { version: PREVIOUS_MINOR, publishedAt: "2025-10-19T00:00:00Z", arches: ["amd64"], digests: false },
        { version: "v1.29.15+k3s1", publishedAt: "2025-03-01T00:00:00Z" },
      ],
      channels: [
        { name: "stable", latest: OLD },
        { name: "latest", latestRegexp: ".*", excludeRegexp: "^[^+]+-" },
      ],
      installScript: INSTALLER,
    });
    mirror = await startMirrorProcess({
      vars: { ...upstream.mirrorVars, MIRROR_ARCHES: "amd64,arm64", MIRROR_OLDEST_MINOR: "v1.32", MIRROR_PATCHES_PER_MINOR: "2", SYNC_MAX_DOWNLOADS_PER_STEP: "3" },
    });
    scratch = await mkdtemp(path.join(os.tmpdir(), "sync-e2e-"));
    steps = await syncUntilDone(mirror);
  });

  afterAll(async () => {
    await mirror?.stop();
    await upstream?.stop();
  });

  it("POST /api/v1/sync resumes over several bounded steps", () => {
    expect(steps.length).toBeGreaterThan(1);
    for (const step of steps) expect(step.downloaded).toBeLessThanOrEqual(3);
    expect(steps.slice(0, -1).every((step) => step.done === false)).toBe(true);
    expect(steps.at(-1).done).toBe(true);
    expect(steps.flatMap((step) => step.failed)).toEqual([]);
  });

  it("POST /api/v1/sync mirrors the selected versions only", async () => {
    const status = await getStatus(mirror);
    const versions = status.versions.map((entry: { version: string }) => entry.version).sort();
    // Newest two patches of v1.33 and v1.32; v1.33.4 and the v1.29 line are left out.
    expect(versions).toEqual([PREVIOUS_MINOR, OLD, NEW].sort());
    const published = steps.flatMap((step) => step.published.map((entry: { version: string; arch: string }) => `${entry.version}/${entry.arch}`)).sort();
    expect(published).toEqual([`${NEW}/amd64`, `${NEW}/arm64`, `${OLD}/amd64`, `${OLD}/arm64`, `${PREVIOUS_MINOR}/amd64`].sort());
  });

  it("GET /k3s-io/k3s/releases/download serves files that match upstream", async () => {
    for (const [version, file] of [
      [NEW, "k3s"],
      [NEW, "k3s-arm64"],
      [NEW, "sha256sum-amd64.txt"],
      [PREVIOUS_MINOR, "k3s"],
    ] as const) {
      const target = path.join(scratch, `${version}-${file}`);
      const result = await run("curl", ["-sSfL", "-o", target, `${mirror.url}/k3s-io/k3s/releases/download/${version}/${file}`]);
      expect(result.stderr).toBe("");
      expect(createHash("sha256").update(await readFile(target)).digest("hex")).toBe(upstream.sha256Of(version, file));
    }
  });

  it("GET download accepts the +, %2B and -k3sN spellings", async () => {
    const expected = upstream.sha256Of(NEW, "k3s");
    for (const spelling of ["v1.33.6+k3s1", "v1.33.6%2Bk3s1", "v1.33.6-k3s1"]) {
      for (const prefix of ["/k3s-io/k3s/releases/download", "/k3s"]) {
        const result = await run("sh", ["-c", `curl -sSf "${mirror.url}${prefix}/${spelling}/k3s" | sha256sum`]);
        expect(result.stdout.split(" ")[0], `${prefix}/${spelling}`).toBe(expected);
      }
    }
  });

  it("GET download passes the installer's checksum check with sha256sum", async () => {
    const directory = await mkdtemp(path.join(scratch, "check-"));
    const base = `${mirror.url}/k3s-io/k3s/releases/download/${NEW}`;
    const script = `set -e; cd "${directory}"; wget -qO sha256sum-amd64.txt "${base}/sha256sum-amd64.txt"; curl -sfL -o k3s "${base}/k3s"; grep " k3s$" sha256sum-amd64.txt | sha256sum -c -`;
    const result = await run("sh", ["-c", script]);
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("k3s: OK");
  });

  it("GET download answers 206 for a Range and 416 past the end", async () => {
    const url = `${mirror.url}/k3s/${NEW}/k3s`;
    const bytes = upstream.bytesOf(NEW, "k3s");
    const partial = await fetch(url, { headers: { Range: "bytes=100-199" } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("content-range")).toBe(`bytes 100-199/${bytes.length}`);
    expect(partial.headers.get("content-length")).toBe("100");
    expect(Buffer.from(await partial.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);

    const resumed = await run("sh", ["-c", `head -c 1000 > "${scratch}/resume" < /dev/zero; curl -sSf -C 1000 -o "${scratch}/resume" "${url}"; tail -c +1001 "${scratch}/resume" | sha256sum`]);
    expect(resumed.stdout.split(" ")[0]).toBe(createHash("sha256").update(bytes.subarray(1000)).digest("hex"));

    const beyond = await fetch(url, { headers: { Range: `bytes=${bytes.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${bytes.length}`);
    await beyond.arrayBuffer();
  });

  it("GET download answers 304 to If-None-Match and If-Modified-Since", async () => {
    const url = `${mirror.url}/k3s-io/k3s/releases/download/${NEW}/k3s`;
    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(upstream.sizeOf(NEW, "k3s")));
    expect(head.headers.get("accept-ranges")).toBe("bytes");
    expect(head.headers.get("content-type")).toBe("application/octet-stream");
    const etag = head.headers.get("etag")!;
    expect(etag).toBe(`"${upstream.sha256Of(NEW, "k3s")}"`);
    const lastModified = head.headers.get("last-modified")!;

    const byEtag = await fetch(url, { headers: { "If-None-Match": etag } });
    expect(byEtag.status).toBe(304);
    const byDate = await fetch(url, { headers: { "If-Modified-Since": lastModified } });
    expect(byDate.status).toBe(304);
    const changed = await fetch(url, { headers: { "If-None-Match": '"0000"' } });
    expect(changed.status).toBe(200);
    await changed.arrayBuffer();
  });

  it("GET download answers 404 naming what is missing and available", async () => {
    const response = await fetch(`${mirror.url}/k3s-io/k3s/releases/download/${PREVIOUS_MINOR}/k3s-arm64`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { message: string; details: { available: string[] } };
    expect(body.message).toContain(`${PREVIOUS_MINOR}/k3s-arm64`);
    expect(body.details.available).toEqual(["k3s", "sha256sum-amd64.txt"]);

    const unknown = await fetch(`${mirror.url}/k3s/v1.20.0+k3s1/k3s`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { message: string }).message).toContain("v1.20.0+k3s1 is not mirrored");
  });

  it("GET /v1-release/channels/stable redirects to the mirrored version", async () => {
    const result = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", `${mirror.url}/v1-release/channels/stable`]);
    expect(result.stdout).toBe(`302 ${mirror.url}/k3s-io/k3s/releases/tag/${OLD}`);
  });

  it("GET /api/v1/status reports published arches and the last step", async () => {
    const status = await getStatus(mirror);
    const newest = status.versions.find((entry: { version: string }) => entry.version === NEW);
    expect(newest.arches.map((arch: { arch: string; state: string }) => `${arch.arch}:${arch.state}`)).toEqual(["amd64:published", "arm64:published"]);
    expect(status.lastSync.done).toBe(true);
    const stable = status.channels.find((channel: { channel: string }) => channel.channel === "stable");
    expect(stable).toMatchObject({ upstream: OLD, mirror: OLD, lagging: false });
    expect(status.installScript.sha256).toBe(createHash("sha256").update(INSTALLER).digest("hex"));
  });

  it("POST /api/v1/sync sends the stored ETag and finds nothing to do", async () => {
    const before = upstream.requests.length;
    const { status, json } = await postSync(mirror);
    expect(status).toBe(200);
    expect(json.upstream.releases).toBe("unchanged");
    expect(json.downloaded).toBe(0);
    expect(json.done).toBe(true);
    const releaseCalls = upstream.requests.slice(before).filter((request) => request.path.startsWith("/repos/"));
    expect(releaseCalls).toHaveLength(1);
    expect(releaseCalls[0]!.headers["if-none-match"]).toMatch(/^W\/"/);
  });

  it("npm run sync drives steps until done", async () => {
    upstream.putRelease({ version: "v1.33.7+k3s1", publishedAt: "2025-12-01T00:00:00Z" });
    const result = await run(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "scripts/sync.ts")], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, MIRROR_URL: mirror.url, ADMIN_TOKEN: mirror.adminToken },
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]).toMatch(/^step 1 \(run \d+\): channels unchanged, releases updated/);
    expect(lines.at(-1)).toMatch(/remaining 0$/);
    expect(result.stdout).toContain("v1.33.7+k3s1/amd64");
  });
});

describe("sync with airgap files and a GitHub token", () => {
  const FULL = "v1.33.6+k3s1";
  const PARTIAL = "v1.33.5+k3s1";
  const TOKEN = "fake-github-token-0123456789";
  let upstream: FakeUpstream;
  let mirror: MirrorProcess;

  beforeAll(async () => {
    upstream = await startFakeUpstream({
      releases: [
        { version: FULL, arches: ["amd64"], airgap: true, publishedAt: "2025-11-20T00:00:00Z" },
        { version: PARTIAL, arches: ["amd64"], airgap: true, missing: ["k3s-airgap-images-amd64.tar.zst"], publishedAt: "2025-10-20T00:00:00Z" },
      ],
      channels: [{ name: "stable", latest: FULL }],
      installScript: INSTALLER,
      requireToken: TOKEN,
    });
    mirror = await startMirrorProcess({
      vars: { ...upstream.mirrorVars, GITHUB_TOKEN: TOKEN, MIRROR_ARCHES: "amd64", MIRROR_AIRGAP: "true", MIRROR_OLDEST_MINOR: "v1.33", MIRROR_PATCHES_PER_MINOR: "2", SYNC_MAX_DOWNLOADS_PER_STEP: "10" },
    });
    await syncUntilDone(mirror);
  });

  afterAll(async () => {
    await mirror?.stop();
    await upstream?.stop();
  });

  it("sends the token to the releases API", () => {
    const calls = upstream.requests.filter((request) => request.path.startsWith("/repos/"));
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expect(call.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("publishes only with every airgap file verified", async () => {
    const status = await getStatus(mirror);
    const full = status.versions.find((entry: { version: string }) => entry.version === FULL).arches[0];
    expect(full.state).toBe("published");
    const partial = status.versions.find((entry: { version: string }) => entry.version === PARTIAL).arches[0];
    expect(partial.state).toBe("pending");
    expect(partial.missing).toEqual([{ file: "k3s-airgap-images-amd64.tar.zst", reason: "not-uploaded" }]);
  });

  it("GET download serves airgap tarballs and the image list", async () => {
    for (const file of ["k3s-airgap-images-amd64.tar.gz", "k3s-airgap-images-amd64.tar.zst", "k3s-images.txt"]) {
      const result = await run("sh", ["-c", `curl -sSf "${mirror.url}/k3s/${FULL}/${file}" | sha256sum`]);
      expect(result.stdout.split(" ")[0], file).toBe(upstream.sha256Of(FULL, file));
    }
  });

  it("records a new upstream installer beside the old one", async () => {
    const next = "#!/bin/sh\n# installer stand-in, second version\necho installed\n";
    upstream.setInstallScript(next);
    const { json } = await postSync(mirror);
    expect(json.upstream.installScript).toBe("updated");
    const status = await getStatus(mirror);
    expect(status.installScript.sha256).toBe(createHash("sha256").update(next).digest("hex"));
  });
});
