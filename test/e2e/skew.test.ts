/**
 * End to end: the mirror, synced from a fake upstream, serves the wrapped install script
 * to sandboxed nodes. A server on v1.18.20+k3s1 that requests v1.22.4+k3s1 is rejected
 * before any download, with the ladder of newest published patches. An agent that joins
 * with no version gets its servers' version, not the newer one the stable channel offers.
 *
 * Nodes reach the mirror through a recording loopback proxy, so the test sees every
 * request a node made.
 */
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { createInstallSandbox, type InstallSandbox } from "../support/install-sandbox";
import { PROJECT_ROOT, startMirrorProcess, type MirrorProcess } from "../support/mirror-process";
import { run } from "../support/run";

const STAND_IN = readFileSync(path.join(PROJECT_ROOT, "test/support/installer-stand-in.sh"), "utf8");
const FILE_BYTES = 2048;
const RELEASES = ["v1.22.4+k3s1", "v1.21.14+k3s1", "v1.21.13+k3s1", "v1.20.15+k3s1", "v1.20.5+k3s1", "v1.20.0+k3s2", "v1.19.16+k3s1", "v1.19.15+k3s1", "v1.18.20+k3s1"];

/** A K3s binary stand-in that prints its version the way `k3s --version` does. */
const fakeBinary = (version: string) => `#!/bin/sh\necho "k3s version ${version} (0123abcd)"\necho "go version go1.16.0"\n`;

/** Forwards requests to the mirror and records their paths. */
async function startRecordingProxy(target: string) {
  const paths: string[] = [];
  const targetUrl = new URL(target);
  const server = http.createServer((request, response) => {
    paths.push(request.url ?? "/");
    const forwarded = http.request(
      { host: targetUrl.hostname, port: targetUrl.port, method: request.method, path: request.url, headers: { ...request.headers, host: targetUrl.host, "x-forwarded-host": request.headers.host, "x-forwarded-proto": "http" } },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
      },
    );
    forwarded.on("error", () => response.destroy());
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("version-skew checks through the install script", () => {
  let upstream: FakeUpstream;
  let mirror: MirrorProcess;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;

  const isDownload = (requestPath: string) => /^\/(k3s|k3s-io\/k3s\/releases\/download)\//.test(requestPath);

  async function withSandbox(body: (sandbox: InstallSandbox) => Promise<void>) {
    const sandbox = await createInstallSandbox({ shell: "dash", downloader: "curl" });
    try {
      await body(sandbox);
    } finally {
      await sandbox.remove();
    }
  }

  beforeAll(async () => {
    upstream = await startFakeUpstream({
      releases: RELEASES.map((version) => ({ version, arches: ["amd64"], fileSize: FILE_BYTES })),
      channels: [
        { name: "stable", latest: "v1.20.5+k3s1" },
        { name: "latest", latest: "v1.22.4+k3s1" },
      ],
      installScript: STAND_IN,
      perPage: 10,
    });
    mirror = await startMirrorProcess({
      vars: { ...upstream.mirrorVars, MIRROR_ARCHES: "amd64", MIRROR_OLDEST_MINOR: "v1.18", MIRROR_PATCHES_PER_MINOR: "3" },
    });
    for (let step = 0; ; step += 1) {
      if (step === 30) throw new Error("sync did not finish in 30 steps");
      const result = await run("curl", ["-sS", "-f", "-X", "POST", "-H", `Authorization: Bearer ${mirror.adminToken}`, `${mirror.url}/api/v1/sync`]);
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

  it("refuses a server skipping minors before downloading anything", async () => {
    await withSandbox(async (sandbox) => {
      const existing = fakeBinary("v1.18.20+k3s1");
      await writeFile(path.join(sandbox.binDir, "k3s"), existing, { mode: 0o755 });
      const start = proxy.paths.length;

      const result = await sandbox.pipeInstall(`${proxy.url}/?cluster=f7`, ["server"], { INSTALL_K3S_VERSION: "v1.22.4+k3s1", K3S_NODE_NAME: "server-1" });

      expect(result.code).toBe(1);
      expect(result.stderr).toContain("skipped_minor");
      expect(result.stderr).toContain("A server moves at most one minor version per upgrade.");
      expect(result.stderr).toContain("v1.18.20+k3s1 -> v1.19.16+k3s1 -> v1.20.15+k3s1 -> v1.21.14+k3s1 -> v1.22.4+k3s1");
      const requested = proxy.paths.slice(start);
      expect(requested.some((requestPath) => requestPath.startsWith("/api/v1/preflight?"))).toBe(true);
      expect(requested.filter(isDownload)).toEqual([]);
      expect(await readFile(path.join(sandbox.binDir, "k3s"), "utf8")).toBe(existing);
    });
  });

  it("lets the same server take the first hop of its ladder", async () => {
    await withSandbox(async (sandbox) => {
      await writeFile(path.join(sandbox.binDir, "k3s"), fakeBinary("v1.18.20+k3s1"), { mode: 0o755 });
      const result = await sandbox.pipeInstall(`${proxy.url}/?cluster=f7`, ["server"], { INSTALL_K3S_VERSION: "v1.19.16+k3s1", K3S_NODE_NAME: "server-1" });
      expect(result.stderr).not.toContain("ERROR");
      expect(result.code).toBe(0);
      const installed = await run("sha256sum", [path.join(sandbox.binDir, "k3s")]);
      expect(installed.stdout.split(" ")[0]).toBe(upstream.sha256Of("v1.19.16+k3s1", "k3s"));
    });
  });

  it("gives a joining agent its servers' version, not the channel's newer one", async () => {
    await withSandbox(async (server) => {
      const result = await server.pipeInstall(`${proxy.url}/?cluster=f5`, ["server"], { INSTALL_K3S_VERSION: "v1.20.0+k3s2", K3S_NODE_NAME: "server-1" });
      expect(result.code).toBe(0);
    });
    const inventory = await run("curl", ["-sS", "-f", "-H", `Authorization: Bearer ${mirror.adminToken}`, `${mirror.url}/api/v1/clusters/f5`]);
    expect(JSON.parse(inventory.stdout).servers).toEqual([expect.objectContaining({ name: "server-1", version: "v1.20.0+k3s2", stale: false })]);

    await withSandbox(async (agent) => {
      const result = await agent.pipeInstall(`${proxy.url}/?cluster=f5`, [], { K3S_URL: "https://10.0.0.1:6443", K3S_TOKEN: "join-token", K3S_NODE_NAME: "agent-1" });
      expect(result.stderr).not.toContain("ERROR");
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("Using v1.20.0+k3s2 as release");
      const installed = await run("sha256sum", [path.join(agent.binDir, "k3s")]);
      expect(installed.stdout.split(" ")[0]).toBe(upstream.sha256Of("v1.20.0+k3s2", "k3s"));
    });

    const stable = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{redirect_url}", `${mirror.url}/v1-release/channels/stable`]);
    expect(stable.stdout.endsWith("/v1.20.5+k3s1")).toBe(true);
  });
});
