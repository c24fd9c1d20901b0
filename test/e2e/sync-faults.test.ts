import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { startMirrorProcess, type MirrorProcess } from "../support/mirror-process";
import { run } from "../support/run";

const GOOD = "v1.33.6+k3s1";

async function postSync(mirror: MirrorProcess, body = ""): Promise<{ status: number; json: any }> {
  const response = await fetch(`${mirror.url}/api/v1/sync`, { method: "POST", headers: { Authorization: `Bearer ${mirror.adminToken}` }, body });
  return { status: response.status, json: await response.json() };
}

async function syncUntilDone(mirror: MirrorProcess, body = ""): Promise<any[]> {
  const steps: any[] = [];
  for (let step = 0; step < 20; step += 1) {
    const { status, json } = await postSync(mirror, body);
    expect(status, JSON.stringify(json)).toBe(200);
    steps.push(json);
    if (json.done) return steps;
  }
  throw new Error(`sync not done after 20 steps: ${JSON.stringify(steps.at(-1))}`);
}

async function getStatus(mirror: MirrorProcess): Promise<any> {
  const response = await fetch(`${mirror.url}/api/v1/status`, { headers: { Authorization: `Bearer ${mirror.adminToken}` } });
  expect(response.status).toBe(200);
  return response.json();
}

function archStatus(status: any, version: string, arch = "amd64"): any {
  return status.versions.find((entry: { version: string }) => entry.version === version)?.arches.find((entry: { arch: string }) => entry.arch === arch);
}

async function httpCode(url: string): Promise<string> {
  return (await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", url])).stdout;
}

describe("sync with faulty downloads", () => {
  const MISMATCH = "v1.31.1+k3s1";
  const TRUNCATED = "v1.31.2+k3s1";
  const SHORT = "v1.31.3+k3s1";
  const HTML = "v1.31.4+k3s1";
  const HTML_CHECKSUMS = "v1.31.5+k3s1";
  const BROKEN_CHECKSUMS = "v1.31.6+k3s1";
  const FLAKY = "v1.31.7+k3s1";
  const faulty = [MISMATCH, TRUNCATED, SHORT, HTML, HTML_CHECKSUMS, BROKEN_CHECKSUMS, FLAKY];
  let upstream: FakeUpstream;
  let mirror: MirrorProcess;
  let firstSteps: any[];

  beforeAll(async () => {
    upstream = await startFakeUpstream({
      releases: [GOOD, ...faulty].map((version) => ({ version, arches: ["amd64" as const] })),
      // Channel targets are always selected; MIRROR_OLDEST_MINOR leaves everything else out.
      channels: [{ name: "stable", latest: GOOD }, ...faulty.map((version, index) => ({ name: `fault${index}`, latest: version }))],
    });
    upstream.setFault(MISMATCH, "k3s", { kind: "mismatch" });
    upstream.setFault(TRUNCATED, "k3s", { kind: "truncate" });
    upstream.setFault(SHORT, "k3s", { kind: "truncate", declare: "short" });
    upstream.setFault(HTML, "k3s", { kind: "html" });
    upstream.setFault(HTML_CHECKSUMS, "sha256sum-amd64.txt", { kind: "html" });
    upstream.setFault(BROKEN_CHECKSUMS, "sha256sum-amd64.txt", { kind: "truncate", bytes: 40, declare: "short" });
    upstream.setFault(FLAKY, "k3s", { kind: "status", status: 503, times: 2 });
    mirror = await startMirrorProcess({ vars: { ...upstream.mirrorVars, MIRROR_ARCHES: "amd64", MIRROR_OLDEST_MINOR: "v1.99", SYNC_MAX_DOWNLOADS_PER_STEP: "20" } });
    firstSteps = await syncUntilDone(mirror);
  });

  afterAll(async () => {
    await mirror?.stop();
    await upstream?.stop();
  });

  it("publishes nothing for a faulty file and records both hashes", async () => {
    const failures = firstSteps.flatMap((step) => step.failed);

    const mismatch = failures.find((failure: any) => failure.version === MISMATCH);
    expect(mismatch.file).toBe("k3s");
    expect(mismatch.expectedSha256).toBe(upstream.sha256Of(MISMATCH, "k3s"));
    expect(mismatch.actualSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(mismatch.actualSha256).not.toBe(mismatch.expectedSha256);

    const status = await getStatus(mirror);
    const entry = archStatus(status, MISMATCH);
    expect(entry.state).toBe("failed");
    expect(entry.failed[0]).toMatchObject({ file: "k3s", expectedSha256: upstream.sha256Of(MISMATCH, "k3s"), actualSha256: mismatch.actualSha256 });
    expect(await httpCode(`${mirror.url}/k3s-io/k3s/releases/download/${MISMATCH}/k3s`)).toBe("404");
  });

  it("rejects a truncated body, a short body and an HTML page", async () => {
    const status = await getStatus(mirror);
    for (const version of [TRUNCATED, SHORT, HTML]) {
      expect(archStatus(status, version).state, version).toBe("failed");
      expect(await httpCode(`${mirror.url}/k3s/${version}/k3s`), version).toBe("404");
    }
    expect(archStatus(status, HTML).failed[0].error).toMatch(/HTML/);
    expect(archStatus(status, SHORT).failed[0].error).toMatch(/Content-Length/);
  });

  it("rejects an HTML or truncated checksum file and waits with the binary", async () => {
    const status = await getStatus(mirror);
    for (const version of [HTML_CHECKSUMS, BROKEN_CHECKSUMS]) {
      const entry = archStatus(status, version);
      expect(entry.state, version).toBe("failed");
      expect(entry.failed.map((failure: { file: string }) => failure.file)).toEqual(["sha256sum-amd64.txt"]);
      expect(entry.missing).toContainEqual({ file: "k3s", reason: "awaiting-checksum-file" });
    }
    expect(archStatus(status, HTML_CHECKSUMS).failed[0].error).toMatch(/HTML/);
    const downloads = upstream.requests.filter((request) => request.server === "objects" && request.path === `/objects/${encodeURIComponent(HTML_CHECKSUMS)}/k3s`);
    expect(downloads).toHaveLength(0);
  });

  it("keeps serving the good version through the failures", async () => {
    const result = await run("sh", ["-c", `curl -sSf "${mirror.url}/k3s-io/k3s/releases/download/${GOOD}/k3s" | sha256sum`]);
    expect(result.stdout.split(" ")[0]).toBe(upstream.sha256Of(GOOD, "k3s"));
    const stable = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{redirect_url}", `${mirror.url}/v1-release/channels/stable`]);
    expect(stable.stdout.endsWith(`/${GOOD}`)).toBe(true);
  });

  it("schedules a retry and does not refetch before it", async () => {
    const { json } = await postSync(mirror);
    expect(json.downloaded).toBe(0);
    expect(json.done).toBe(true);
    expect(Date.parse(json.nextRetryAt)).toBeGreaterThan(Date.now());
  });

  it("retries after upstream 503s and recovers", async () => {
    const second = await syncUntilDone(mirror, JSON.stringify({ retryNow: true }));
    expect(second.flatMap((step) => step.failed).some((failure: any) => failure.version === FLAKY && /503/.test(failure.reason))).toBe(true);
    const third = await syncUntilDone(mirror, JSON.stringify({ retryNow: true }));
    expect(third.flatMap((step) => step.verified).map((entry: any) => `${entry.version}/${entry.file}`)).toContain(`${FLAKY}/k3s`);
    expect(third.flatMap((step) => step.published)).toContainEqual({ version: FLAKY, arch: "amd64" });
    const result = await run("sh", ["-c", `curl -sSf "${mirror.url}/k3s/${FLAKY}/k3s" | sha256sum`]);
    expect(result.stdout.split(" ")[0]).toBe(upstream.sha256Of(FLAKY, "k3s"));
  });

  it("publishes a fixed file on the next retry", async () => {
    upstream.setFault(MISMATCH, "k3s", null);
    const steps = await syncUntilDone(mirror, JSON.stringify({ retryNow: true }));
    expect(steps.flatMap((step) => step.published)).toContainEqual({ version: MISMATCH, arch: "amd64" });
    expect(archStatus(await getStatus(mirror), MISMATCH).state).toBe("published");
  });

  it("POST /api/v1/sync answers 409 while another step runs", async () => {
    upstream.setFault(TRUNCATED, "k3s", { kind: "slow", delayMs: 1500 });
    const [first, second] = await Promise.all([
      postSync(mirror, JSON.stringify({ retryNow: true })),
      new Promise((resolve) => setTimeout(resolve, 500)).then(() => postSync(mirror, JSON.stringify({ retryNow: true }))),
    ]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(409);
    expect(second.json.code).toBe("SyncLocked");
    // The lease is released when the step ends.
    const after = await postSync(mirror);
    expect(after.status).toBe(200);
  });
});

describe("sync with upstream down or ahead", () => {
  const AHEAD = "v1.34.1+k3s1";
  let upstream: FakeUpstream;
  let mirror: MirrorProcess;

  beforeAll(async () => {
    upstream = await startFakeUpstream({
      releases: [{ version: GOOD, arches: ["amd64", "arm64"] }],
      channels: [{ name: "stable", latest: GOOD }],
    });
    mirror = await startMirrorProcess({ vars: { ...upstream.mirrorVars, MIRROR_ARCHES: "amd64,arm64", MIRROR_OLDEST_MINOR: "v1.33", MIRROR_PATCHES_PER_MINOR: "1" } });
    await syncUntilDone(mirror);
  });

  afterAll(async () => {
    await mirror?.stop();
    await upstream?.stop();
  });

  it("keeps stable on the published version while upstream is ahead", async () => {
    // The new release has only arm64 files, yet upstream's stable points at it.
    upstream.putRelease({ version: AHEAD, arches: ["arm64"], publishedAt: "2026-01-01T00:00:00Z" });
    upstream.setChannel("stable", AHEAD);
    const steps = await syncUntilDone(mirror);
    expect(steps.flatMap((step) => step.published)).toContainEqual({ version: AHEAD, arch: "arm64" });

    const stable = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", `${mirror.url}/v1-release/channels/stable`]);
    expect(stable.stdout).toBe(`302 ${mirror.url}/k3s-io/k3s/releases/tag/${GOOD}`);

    const status = await getStatus(mirror);
    const pending = archStatus(status, AHEAD, "amd64");
    expect(pending.state).toBe("pending");
    expect(pending.missing).toEqual([
      { file: "sha256sum-amd64.txt", reason: "not-uploaded" },
      { file: "k3s", reason: "not-uploaded" },
    ]);
    const lag = status.channels.find((channel: { channel: string }) => channel.channel === "stable");
    expect(lag).toMatchObject({ upstream: AHEAD, mirror: GOOD, lagging: true });
    expect(Date.parse(lag.upstreamSince)).not.toBeNaN();
  });

  it("moves stable once the amd64 files arrive", async () => {
    upstream.putRelease({ version: AHEAD, arches: ["amd64", "arm64"], publishedAt: "2026-01-01T00:00:00Z" });
    await syncUntilDone(mirror);
    const stable = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{redirect_url}", `${mirror.url}/v1-release/channels/stable`]);
    expect(stable.stdout).toBe(`${mirror.url}/k3s-io/k3s/releases/tag/${AHEAD}`);
    const lag = (await getStatus(mirror)).channels.find((channel: { channel: string }) => channel.channel === "stable");
    expect(lag).toMatchObject({ upstream: AHEAD, mirror: AHEAD, lagging: false });
  });

  it("keeps everything when upstream refuses connections", async () => {
    await upstream.setOffline(true);
    try {
      const { status, json } = await postSync(mirror);
      expect(status).toBe(200);
      expect(json.upstream).toEqual({ channels: "failed", releases: "failed", installScript: "failed" });
      expect(json.failed.map((failure: { stage: string }) => failure.stage)).toEqual(["channels", "releases", "install-script"]);
      expect(json.failed[0].url).toBe(upstream.channelsUrl);

      const download = await run("sh", ["-c", `curl -sSf "${mirror.url}/k3s/${AHEAD}/k3s" | sha256sum`]);
      expect(download.stdout.split(" ")[0]).toBe(upstream.sha256Of(AHEAD, "k3s"));
      const stable = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{redirect_url}", `${mirror.url}/v1-release/channels/stable`]);
      expect(stable.stdout.endsWith(`/${AHEAD}`)).toBe(true);
    } finally {
      await upstream.setOffline(false);
    }
  });

  it("rejects a malformed upstream reply and changes nothing", async () => {
    upstream.setEndpointFault("channels", { kind: "malformed" });
    upstream.setEndpointFault("releases", { kind: "malformed" });
    upstream.setChannel("stable", GOOD);
    try {
      const { json } = await postSync(mirror);
      expect(json.upstream.channels).toBe("failed");
      expect(json.upstream.releases).toBe("failed");
      const reasons = json.failed.map((failure: { reason: string }) => failure.reason).join("\n");
      expect(reasons).toMatch(/does not have the expected shape/);

      const status = await getStatus(mirror);
      const lag = status.channels.find((channel: { channel: string }) => channel.channel === "stable");
      expect(lag.upstream).toBe(AHEAD);
      expect(status.versions.map((entry: { version: string }) => entry.version)).toContain(AHEAD);
    } finally {
      upstream.clearFaults();
    }
  });
});
