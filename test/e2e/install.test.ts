/**
 * End to end: a fake upstream serves releases, channels and the installer stand-in; the
 * mirror runs as `npm start` runs it and syncs from the fake; then `curl -sfL <mirror>/ |
 * sh -s -` (or wget) installs K3s inside a sandbox with real dash or busybox sh. Every
 * installed binary is hashed with the real sha256sum and compared with the hash the fake
 * upstream generated the file with, so a test can only pass when the bytes came through
 * the mirror unchanged.
 *
 * The node talks to the mirror through a recording loopback proxy that sends
 * X-Forwarded-Proto and X-Forwarded-Host, as a reverse proxy would: the script must
 * carry the proxy's address, and the proxy's log shows every request the node made.
 */
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { createInstallSandbox, runCommand, type InstallSandbox, type SandboxDownloader, type SandboxShell } from "../support/install-sandbox";
import { PROJECT_ROOT, startMirrorProcess, type MirrorProcess } from "../support/mirror-process";

const STAND_IN = readFileSync(path.join(PROJECT_ROOT, "test/support/installer-stand-in.sh"), "utf8");
const STABLE = "v1.33.6+k3s1";
const PREVIOUS = "v1.33.5+k3s1";
const PINNED_BUILD = "v1.32.5+k3s1";
const NEWEST_BUILD = "v1.32.5+k3s2";
const FILE_BYTES = 4096;

type Recorded = { method: string; path: string };

/** Starts a reverse proxy on loopback that records request paths and forwards them to the mirror. */
async function startRecordingProxy(target: string) {
  const requests: Recorded[] = [];
  const targetUrl = new URL(target);
  const server = http.createServer((request, response) => {
    requests.push({ method: request.method ?? "GET", path: request.url ?? "/" });
    const upstream = http.request(
      {
        host: targetUrl.hostname,
        port: targetUrl.port,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, host: targetUrl.host, "x-forwarded-host": request.headers.host, "x-forwarded-proto": "http" },
      },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
      },
    );
    upstream.on("error", () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function sha256sumOf(file: string): Promise<string> {
  const result = await runCommand("sha256sum", [file]);
  expect(result.code).toBe(0);
  return result.stdout.split(" ")[0]!;
}

describe("install through the mirror", () => {
  let upstream: FakeUpstream;
  let mirror: MirrorProcess;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;

  const downloadsSince = (start: number) => proxy.requests.slice(start).filter((request) => /^\/(k3s|k3s-io\/k3s\/releases\/download)\//.test(request.path));

  async function withSandbox(shell: SandboxShell, downloader: SandboxDownloader, body: (sandbox: InstallSandbox) => Promise<void>) {
    const sandbox = await createInstallSandbox({ shell, downloader });
    try {
      await body(sandbox);
    } finally {
      await sandbox.remove();
    }
  }

  beforeAll(async () => {
    upstream = await startFakeUpstream({
      releases: [
        { version: STABLE, publishedAt: "2025-11-20T00:00:00Z", arches: ["amd64", "arm64"], fileSize: FILE_BYTES },
        { version: PREVIOUS, publishedAt: "2025-10-20T00:00:00Z", arches: ["amd64", "arm64"], fileSize: FILE_BYTES },
        { version: NEWEST_BUILD, publishedAt: "2025-09-21T00:00:00Z", arches: ["amd64", "arm64"], fileSize: FILE_BYTES },
        { version: PINNED_BUILD, publishedAt: "2025-09-20T00:00:00Z", arches: ["amd64", "arm64"], fileSize: FILE_BYTES },
      ],
      // `pinned` makes the sync copy an older build of v1.32.5 besides the newest one.
      channels: [
        { name: "stable", latest: STABLE },
        { name: "pinned", latest: PINNED_BUILD },
      ],
      installScript: STAND_IN,
    });
    mirror = await startMirrorProcess({
      vars: { ...upstream.mirrorVars, MIRROR_ARCHES: "amd64,arm64", MIRROR_OLDEST_MINOR: "v1.32", MIRROR_PATCHES_PER_MINOR: "2" },
    });
    for (let step = 0; ; step += 1) {
      if (step === 20) throw new Error("sync did not finish in 20 steps");
      const result = await runCommand("curl", ["-sS", "-f", "-X", "POST", "-H", `Authorization: Bearer ${mirror.adminToken}`, `${mirror.url}/api/v1/sync`]);
      expect(result.stderr).toBe("");
      if (JSON.parse(result.stdout).done === true) break;
    }
    proxy = await startRecordingProxy(mirror.url);
  });

  afterAll(async () => {
    await proxy?.stop();
    await mirror?.stop();
    await upstream?.stop();
  });

  it("serves the synced installer inside the script", async () => {
    const result = await runCommand("curl", ["-sS", "-f", `${proxy.url}/install.sh`]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(STAND_IN);
    expect(result.stdout).toContain(`    mirror_base='${proxy.url}'\n`);
  });

  describe.each([
    ["dash", "curl", "amd64", "k3s"],
    ["dash", "wget", "arm64", "k3s-arm64"],
    ["busybox", "curl", "arm64", "k3s-arm64"],
    ["busybox", "wget", "amd64", "k3s"],
  ] as const)("under %s with %s", (shell, downloader, arch, binary) => {
    it(`installs ${arch} server from the mirror`, async () => {
      await withSandbox(shell, downloader, async (sandbox) => {
        const upstreamRequests = upstream.requests.length;
        const start = proxy.requests.length;
        const result = await sandbox.pipeInstall(`${proxy.url}/`, [], { ARCH: arch });
        expect(result.stderr).not.toContain("ERROR");
        expect(result.code).toBe(0);
        expect(result.stdout).toContain(`Using ${STABLE} as release`);
        expect(await sha256sumOf(path.join(sandbox.binDir, "k3s"))).toBe(upstream.sha256Of(STABLE, binary));
        expect(downloadsSince(start).map((request) => request.path)).toEqual([`/k3s/v1.33.6%2Bk3s1/sha256sum-${arch}.txt`, `/k3s/v1.33.6%2Bk3s1/${binary}`]);
        expect(upstream.requests.length).toBe(upstreamRequests);
        const service = await readFile(path.join(sandbox.systemdDir, "k3s.service"), "utf8");
        expect(service).toContain(`ExecStart=${sandbox.binDir}/k3s server`);
      });
    });

    it("installs an agent with K3S_URL and K3S_TOKEN", async () => {
      await withSandbox(shell, downloader, async (sandbox) => {
        const result = await sandbox.pipeInstall(`${proxy.url}/?cluster=e2e-${shell}-${downloader}`, [], {
          ARCH: arch,
          K3S_URL: "https://10.0.0.1:6443",
          K3S_TOKEN: "e2e-join-token",
          K3S_NODE_NAME: `agent-${shell}-${downloader}`,
        });
        expect(result.stderr).not.toContain("ERROR");
        expect(result.code).toBe(0);
        expect(await sha256sumOf(path.join(sandbox.binDir, "k3s"))).toBe(upstream.sha256Of(STABLE, binary));
        const envFile = (await readFile(path.join(sandbox.systemdDir, "k3s-agent.service.env"), "utf8")).trim().split("\n").sort();
        expect(envFile).toEqual(["K3S_NODE_NAME=agent-" + shell + "-" + downloader, "K3S_TOKEN=e2e-join-token", "K3S_URL=https://10.0.0.1:6443"]);
        const service = await readFile(path.join(sandbox.systemdDir, "k3s-agent.service"), "utf8");
        expect(service).toContain(`ExecStart=${sandbox.binDir}/k3s agent`);
      });
    });
  });

  describe.each(["dash", "busybox"] as const)("explicit versions under %s", (shell) => {
    it.each([
      ["1.32.5", NEWEST_BUILD],
      ["v1.32.5", NEWEST_BUILD],
      ["v1.32.5+k3s1", PINNED_BUILD],
      ["v1.32.5%2Bk3s1", PINNED_BUILD],
      ["v1.32.5-k3s1", PINNED_BUILD],
    ])("installs INSTALL_K3S_VERSION=%s as %s", async (typed, expected) => {
      await withSandbox(shell, shell === "dash" ? "curl" : "wget", async (sandbox) => {
        const result = await sandbox.pipeInstall(`${proxy.url}/`, [], { INSTALL_K3S_VERSION: typed });
        expect(result.code).toBe(0);
        expect(result.stdout).toContain(`Using ${expected} as release`);
        expect(await sha256sumOf(path.join(sandbox.binDir, "k3s"))).toBe(upstream.sha256Of(expected, "k3s"));
      });
    });
  });

  it("installs the version named in the URL", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      const result = await sandbox.pipeInstall(`${proxy.url}/?version=v1.32.5-k3s1`);
      expect(result.code).toBe(0);
      expect(await sha256sumOf(path.join(sandbox.binDir, "k3s"))).toBe(upstream.sha256Of(PINNED_BUILD, "k3s"));
    });
  });

  it("rejects a version the mirror does not publish", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      const start = proxy.requests.length;
      const result = await sandbox.pipeInstall(`${proxy.url}/`, [], { INSTALL_K3S_VERSION: "1.31.4" });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("INSTALL_K3S_VERSION=1.31.4 is not published on this mirror for amd64");
      expect(result.stderr).toContain(STABLE);
      expect(downloadsSince(start)).toEqual([]);
    });
  });

  it.each([
    ["dash", "curl"],
    ["busybox", "wget"],
  ] as const)("stops before any download when the channel does not resolve (%s, %s)", async (shell, downloader) => {
    await withSandbox(shell, downloader, async (sandbox) => {
      const upstreamRequests = upstream.requests.length;
      const start = proxy.requests.length;
      const result = await sandbox.pipeInstall(`${proxy.url}/`, [], { INSTALL_K3S_CHANNEL: "v1.20" });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('channel "v1.20" did not resolve to a K3s version');
      expect(result.stderr).toContain(`${proxy.url}/v1-release/channels/v1.20?role=server`);
      expect(result.stdout).not.toContain("Using v1.20 as release");
      expect(downloadsSince(start)).toEqual([]);
      expect(upstream.requests.length).toBe(upstreamRequests);
      expect(await sandbox.installedFiles()).toEqual([]);
    });
  });

  it("rejects a skipped minor version before downloading", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      const existing = "#!/bin/sh\necho 'k3s version v1.30.4+k3s1 (0123abcd)'\n";
      await writeFile(path.join(sandbox.binDir, "k3s"), existing, { mode: 0o755 });
      const start = proxy.requests.length;
      const result = await sandbox.pipeInstall(`${proxy.url}/`, ["server"], { INSTALL_K3S_VERSION: STABLE });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`the version-skew check rejected ${STABLE} on this server`);
      expect(result.stderr).toContain("Nothing was downloaded or changed");
      expect(downloadsSince(start)).toEqual([]);
      expect(await readFile(path.join(sandbox.binDir, "k3s"), "utf8")).toBe(existing);

      const overridden = await sandbox.pipeInstall(`${proxy.url}/`, ["server"], { INSTALL_K3S_VERSION: STABLE, INSTALL_MIRROR_SKIP_SKEW_CHECK: "true" });
      expect(overridden.code).toBe(0);
      expect(overridden.stderr).toContain("INSTALL_MIRROR_SKIP_SKEW_CHECK=true");
      expect(await sha256sumOf(path.join(sandbox.binDir, "k3s"))).toBe(upstream.sha256Of(STABLE, "k3s"));
    });
  });

  // busybox wget -S prints a redirect's headers only up to Location, so curl is used here.
  it("explains a channel that holds the node back", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      const existing = "#!/bin/sh\necho 'k3s version v1.30.4+k3s1 (0123abcd)'\n";
      await writeFile(path.join(sandbox.binDir, "k3s"), existing, { mode: 0o755 });
      const start = proxy.requests.length;
      const result = await sandbox.pipeInstall(`${proxy.url}/`, ["server"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("the channel keeps this node at its current version v1.30.4+k3s1");
      expect(result.stdout).toContain("the mirror's version-skew rules chose this version: no published v1.31 release");
      expect(downloadsSince(start)).toEqual([]);
      expect(await readFile(path.join(sandbox.binDir, "k3s"), "utf8")).toBe(existing);
    });
  });

  it("GET /?channel=<shell code> prints the error without running it", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      const marker = path.join(sandbox.root, "marker");
      const query = `channel=${encodeURIComponent(`$(touch ${marker})`)}`;
      const result = await sandbox.runShell(`curl -sS "$0" | sh -s -`, [`${proxy.url}/?${query}`]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`query parameter channel="$(touch ${marker})" is invalid`);
      expect(await sandbox.installedFiles()).toEqual([]);
      await expect(readFile(marker)).rejects.toThrow();
    });
  });

  it("installs from the mirror alone when upstream is down", async () => {
    await upstream.stop();
    const refused = await runCommand("curl", ["-sS", "-o", "/dev/null", upstream.channelsUrl]);
    expect(refused.code).not.toBe(0);

    await withSandbox("busybox", "wget", async (sandbox) => {
      const result = await sandbox.pipeInstall(`${proxy.url}/`, [], { ARCH: "arm64" });
      expect(result.code).toBe(0);
      expect(await sha256sumOf(path.join(sandbox.binDir, "k3s"))).toBe(upstream.sha256Of(STABLE, "k3s-arm64"));
    });
    await withSandbox("dash", "curl", async (sandbox) => {
      const result = await sandbox.pipeInstall(`${mirror.url}/`, [], { INSTALL_K3S_VERSION: "v1.33.5" });
      expect(result.code).toBe(0);
      expect(await sha256sumOf(path.join(sandbox.binDir, "k3s"))).toBe(upstream.sha256Of(PREVIOUS, "k3s"));
    });
  });
});
