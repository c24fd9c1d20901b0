/**
 * The wrapped install script's own behaviour, run by real dash and busybox sh with curl
 * or wget against a scripted stand-in of the mirror's node-facing endpoints on loopback.
 * Each test sets what the endpoints answer, so failure paths that a real mirror rarely
 * shows (skew rejections, a preflight that fails, a report endpoint that is down) are
 * driven directly. test/e2e/install.test.ts runs the same script against the real mirror.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { renderWrappedScript, type WrappedScriptSettings } from "../../src/install/script";
import { createInstallSandbox, type InstallSandbox, type SandboxDownloader, type SandboxShell } from "../support/install-sandbox";
import { PROJECT_ROOT } from "../support/mirror-process";

const STAND_IN = readFileSync(path.join(PROJECT_ROOT, "test/support/installer-stand-in.sh"), "utf8");
const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/** A K3s "binary" that answers --version like k3s does. */
const fakeBinary = (version: string, arch: string) => `#!/bin/sh\necho "k3s version ${version} (0123abcd)"\necho "go version go1.24.0"\n# ${arch}\n`;
const BINARY_NAMES: Record<string, string> = { amd64: "k3s", arm64: "k3s-arm64", arm: "k3s-armhf" };

type Reply = { status: number; body?: string; headers?: Record<string, string> };

/** What the scripted endpoints answer; tests change it, afterEach restores it. */
type StubState = {
  channels: Record<string, string | Reply>;
  resolve: (version: string, arch: string | null) => Reply;
  preflight: (query: URLSearchParams) => Reply;
  report: Reply;
  settings: Partial<WrappedScriptSettings>;
  installerText: string;
  /** Served as the script instead of the rendered one, when set. */
  scriptOverride: string | null;
};

const VERSIONS = ["v1.33.6+k3s1", "v1.33.5+k3s1", "v1.28.5+k3s1", "v1.28.5+k3s2"];

function defaultState(): StubState {
  return {
    channels: { stable: "v1.33.6+k3s1", old: "v1.28.5+k3s2" },
    resolve: (version) => {
      const typed = version.replace(/^v?/, "v").replace(/-k3s/, "+k3s");
      if (VERSIONS.includes(typed)) return { status: 200, body: `${typed}\n` };
      const builds = VERSIONS.filter((candidate) => candidate.startsWith(`${typed}+`)).sort();
      if (builds.length > 0) return { status: 200, body: `${builds.at(-1)}\n` };
      if (/^v\d+\.\d+\.\d+/.test(typed)) return { status: 404, body: `${typed} is not published on this mirror for amd64. Available: v1.33.6+k3s1.\n` };
      return { status: 400, body: `"${version}" is not a K3s version; write it like v1.33.6+k3s1\n` };
    },
    preflight: () => ({ status: 404, body: '{"type":"error","code":"NotFound"}' }),
    report: { status: 204 },
    settings: {},
    installerText: STAND_IN,
    scriptOverride: null,
  };
}

type Recorded = { method: string; path: string; query: string; body: string };

describe("wrapped install script", () => {
  let server: http.Server;
  let baseUrl: string;
  let state = defaultState();
  const requests: Recorded[] = [];

  const downloads = () => requests.filter((request) => /\/(k3s|download)\/[^/]+\/[^/]+$/.test(request.path) && !request.path.includes("/tag/"));
  const reports = () => requests.filter((request) => request.path === "/api/v1/report").map((request) => JSON.parse(request.body));

  const send = (response: http.ServerResponse, reply: Reply) => {
    response.writeHead(reply.status, { "Content-Type": "text/plain", ...reply.headers });
    response.end(reply.body ?? "");
  };

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        const url = new URL(request.url ?? "/", baseUrl);
        requests.push({ method: request.method ?? "GET", path: url.pathname, query: url.search, body });
        handle(url, request, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  afterEach(() => {
    state = defaultState();
    requests.length = 0;
  });

  function handle(url: URL, request: http.IncomingMessage, response: http.ServerResponse) {
    const pathname = url.pathname;
    if (pathname === "/") {
      const installerText = state.installerText;
      const script =
        state.scriptOverride ??
        renderWrappedScript({
          baseUrl,
          defaultChannel: "stable",
          channel: null,
          version: null,
          cluster: null,
          ...state.settings,
          installer: { sha256: sha256(installerText), text: installerText, sourceUrl: "http://127.0.0.1:9/install.sh", ...state.settings.installer },
        });
      return send(response, { status: 200, body: script });
    }
    const channel = /^\/v1-release\/channels\/([^/]+)$/.exec(pathname);
    if (channel) {
      const answer = state.channels[decodeURIComponent(channel[1]!)];
      if (answer === undefined) return send(response, { status: 404, body: '{"type":"error","links":{},"code":"NotFound","message":"","status":404,"type":"error"}\n' });
      if (typeof answer !== "string") return send(response, answer);
      return send(response, { status: 302, headers: { Location: `${baseUrl}/k3s-io/k3s/releases/tag/${answer}` }, body: "Found" });
    }
    if (pathname.startsWith("/k3s-io/k3s/releases/tag/")) return send(response, { status: 200, body: "<html></html>" });
    if (pathname === "/api/v1/versions/resolve") return send(response, state.resolve(url.searchParams.get("version") ?? "", url.searchParams.get("arch")));
    if (pathname === "/api/v1/preflight") return send(response, state.preflight(url.searchParams));
    if (pathname === "/api/v1/report" && request.method === "POST") return send(response, state.report);

    const download = /^\/(?:k3s|k3s-io\/k3s\/releases\/download)\/([^/]+)\/([^/]+)$/.exec(pathname);
    if (download) {
      const version = decodeURIComponent(download[1]!);
      const file = download[2]!;
      const checksum = /^sha256sum-(\w+)\.txt$/.exec(file);
      if (checksum) {
        const arch = checksum[1]!;
        const name = BINARY_NAMES[arch]!;
        return send(response, { status: 200, body: `${sha256(fakeBinary(version, "other"))}  k3s-airgap-images-${arch}.tar.gz\n${sha256(fakeBinary(version, arch))}  ${name}\n` });
      }
      const arch = Object.entries(BINARY_NAMES).find(([, name]) => name === file)?.[0];
      if (arch) return send(response, { status: 200, body: fakeBinary(version, arch) });
    }
    send(response, { status: 404, body: "not found\n" });
  }

  async function withSandbox(shell: SandboxShell, downloader: SandboxDownloader, body: (sandbox: InstallSandbox) => Promise<void>) {
    const sandbox = await createInstallSandbox({ shell, downloader });
    try {
      await body(sandbox);
    } finally {
      await sandbox.remove();
    }
  }

  async function installedSha256(sandbox: InstallSandbox) {
    return sha256(await readFile(path.join(sandbox.binDir, "k3s")));
  }

  describe.each([
    ["dash", "curl"],
    ["dash", "wget"],
    ["busybox", "curl"],
    ["busybox", "wget"],
  ] as const)("under %s with %s", (shell, downloader) => {
    it("installs the default channel's version", async () => {
      await withSandbox(shell, downloader, async (sandbox) => {
        const result = await sandbox.pipeInstall(`${baseUrl}/`);
        expect(result.stderr).not.toContain("ERROR");
        expect(result.code).toBe(0);
        expect(result.stdout).toContain("Using v1.33.6+k3s1 as release");
        expect(await installedSha256(sandbox)).toBe(sha256(fakeBinary("v1.33.6+k3s1", "amd64")));
        expect(downloads().map((request) => request.path)).toEqual(["/k3s/v1.33.6%2Bk3s1/sha256sum-amd64.txt", "/k3s/v1.33.6%2Bk3s1/k3s"]);
      });
    });

    it("stops before downloading when the channel does not resolve", async () => {
      await withSandbox(shell, downloader, async (sandbox) => {
        const result = await sandbox.pipeInstall(`${baseUrl}/`, [], { INSTALL_K3S_CHANNEL: "missing" });
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('channel "missing" did not resolve to a K3s version');
        expect(result.stderr).toContain(`${baseUrl}/v1-release/channels/missing?role=server`);
        expect(result.stderr).toContain("INSTALL_K3S_VERSION");
        expect(result.stdout).not.toContain("Using missing as release");
        expect(downloads()).toEqual([]);
        expect(await sandbox.installedFiles()).toEqual([]);
      });
    });
  });

  describe.each(["dash", "busybox"] as const)("under %s", (shell) => {
    it.each([
      ["amd64", "k3s"],
      ["arm64", "k3s-arm64"],
      ["aarch64", "k3s-arm64"],
      ["armv7l", "k3s-armhf"],
    ])("installs the binary for ARCH=%s", async (arch, binary) => {
      await withSandbox(shell, "curl", async (sandbox) => {
        const result = await sandbox.pipeInstall(`${baseUrl}/`, [], { ARCH: arch });
        expect(result.code).toBe(0);
        const archName = Object.entries(BINARY_NAMES).find(([, name]) => name === binary)![0];
        expect(await installedSha256(sandbox)).toBe(sha256(fakeBinary("v1.33.6+k3s1", archName)));
        expect(downloads().at(-1)?.path).toBe(`/k3s/v1.33.6%2Bk3s1/${binary}`);
        const check = requests.find((request) => request.path === "/api/v1/versions/resolve");
        expect(check).toBeDefined();
      });
    });

    it.each(["1.28.5", "v1.28.5", "v1.28.5+k3s1", "v1.28.5%2Bk3s1", "v1.28.5-k3s1"])("normalises INSTALL_K3S_VERSION=%s", async (typed) => {
      await withSandbox(shell, "curl", async (sandbox) => {
        const expected = typed.includes("k3s1") ? "v1.28.5+k3s1" : "v1.28.5+k3s2";
        const result = await sandbox.pipeInstall(`${baseUrl}/`, [], { INSTALL_K3S_VERSION: typed });
        expect(result.code).toBe(0);
        expect(result.stdout).toContain(`Using ${expected} as release`);
        expect(await installedSha256(sandbox)).toBe(sha256(fakeBinary(expected, "amd64")));
        expect(requests.some((request) => request.path.startsWith("/v1-release/"))).toBe(false);
      });
    });

    it("rejects an INSTALL_K3S_VERSION that is not a version", async () => {
      await withSandbox(shell, "curl", async (sandbox) => {
        const result = await sandbox.pipeInstall(`${baseUrl}/`, [], { INSTALL_K3S_VERSION: "stable; touch /tmp/x" });
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('INSTALL_K3S_VERSION="stable; touch /tmp/x" is not a K3s version');
        expect(result.stderr).toContain("v1.33.6+k3s1");
        expect(requests.map((request) => request.path)).toEqual(["/"]);
      });
    });

    it("reports a version the mirror does not publish", async () => {
      await withSandbox(shell, "curl", async (sandbox) => {
        const result = await sandbox.pipeInstall(`${baseUrl}/`, [], { INSTALL_K3S_VERSION: "v1.29.0+k3s1" });
        expect(result.code).toBe(1);
        expect(result.stderr).toContain("INSTALL_K3S_VERSION=v1.29.0+k3s1 is not published on this mirror for amd64");
        expect(result.stderr).toContain("Available: v1.33.6+k3s1");
        expect(downloads()).toEqual([]);
      });
    });
  });

  it("uses the channel and version query settings", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      state.settings = { channel: "old" };
      let result = await sandbox.pipeInstall(`${baseUrl}/`);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("Using v1.28.5+k3s2 as release");

      state.settings = { version: "v1.33.5-k3s1" };
      result = await sandbox.pipeInstall(`${baseUrl}/`);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("Using v1.33.5+k3s1 as release");
      expect(result.stdout).toContain("?version=v1.33.5-k3s1 resolved to v1.33.5+k3s1");
    });
  });

  it("lets the caller's variables win over the mirror's", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      state.settings = { channel: "stable" };
      const result = await sandbox.pipeInstall(`${baseUrl}/`, [], { INSTALL_K3S_CHANNEL: "old", GITHUB_URL: `${baseUrl}/k3s-io/k3s/releases` });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("Using v1.28.5+k3s2 as release");
      expect(downloads().at(-1)?.path).toBe("/k3s-io/k3s/releases/download/v1.28.5+k3s2/k3s");
    });
  });

  it.each([
    [503, "HTTP 503"],
    [200, "is not a version like"],
  ])("fails closed when the channel lookup returns %i", async (status, expected) => {
    await withSandbox("dash", "wget", async (sandbox) => {
      state.channels.stable = { status, body: "Service Unavailable" };
      const result = await sandbox.pipeInstall(`${baseUrl}/`);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(expected);
      expect(result.stderr).toContain('channel "stable" did not resolve');
      expect(downloads()).toEqual([]);
    });
  });

  it("fails closed when the mirror does not answer", async () => {
    await withSandbox("busybox", "curl", async (sandbox) => {
      state.settings = { baseUrl: "http://127.0.0.1:9" };
      const result = await sandbox.pipeInstall(`${baseUrl}/`);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("no reply from http://127.0.0.1:9/v1-release/channels/stable?role=server");
      expect(await sandbox.installedFiles()).toEqual([]);
    });
  });

  it("passes arguments and K3S variables to the installer unchanged", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      state.settings = { cluster: "prod-1" };
      const result = await sandbox.pipeInstall(`${baseUrl}/`, ["--node-label", "tier=a b"], { K3S_URL: "https://10.0.0.1:6443", K3S_TOKEN: "secret-token" });
      expect(result.code).toBe(0);
      const service = await readFile(path.join(sandbox.systemdDir, "k3s-agent.service"), "utf8");
      expect(service).toContain(`ExecStart=${sandbox.binDir}/k3s agent --node-label tier=a b`);
      const envFile = (await readFile(path.join(sandbox.systemdDir, "k3s-agent.service.env"), "utf8")).trim().split("\n").sort();
      expect(envFile).toEqual(["K3S_TOKEN=secret-token", "K3S_URL=https://10.0.0.1:6443"]);
      const lookup = requests.find((request) => request.path === "/v1-release/channels/stable");
      expect(lookup).toBeDefined();
    });
  });

  it("sends role, cluster and current version to the mirror", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      await writeFile(path.join(sandbox.binDir, "k3s"), fakeBinary("v1.33.5+k3s1", "amd64"), { mode: 0o755 });
      state.settings = { cluster: "prod-1" };
      state.preflight = () => ({ status: 200, body: '{"allowed":true,"reason":"ok","rule":"","message":"","ladder":[],"target":"v1.33.6+k3s1"}' });
      const result = await sandbox.pipeInstall(`${baseUrl}/`, ["agent"], { K3S_URL: "https://10.0.0.1:6443", K3S_TOKEN: "t", K3S_NODE_NAME: "worker-7" });
      expect(result.code).toBe(0);
      const queryOf = (pathname: string) => requests.find((request) => request.path === pathname)?.query;
      expect(queryOf("/v1-release/channels/stable")).toBe("?role=agent&cluster=prod-1&current=v1.33.5%2Bk3s1");
      expect(queryOf("/api/v1/preflight")).toBe("?cluster=prod-1&node=worker-7&role=agent&current=v1.33.5%2Bk3s1&target=v1.33.6%2Bk3s1");
      expect(reports()[0]).toMatchObject({ cluster: "prod-1", node: "worker-7", role: "agent", phase: "before", versionBefore: "v1.33.5+k3s1", outcome: "started", overrideUsed: false });
    });
  });

  describe("skew check", () => {
    const REJECTION = JSON.stringify({
      allowed: false,
      reason: "skipped-minor",
      rule: "servers upgrade one minor version at a time",
      message: "v1.18.20+k3s1 to v1.22.4+k3s1 skips three minor versions",
      ladder: ["v1.19.16+k3s1", "v1.20.15+k3s1", "v1.21.14+k3s1", "v1.22.4+k3s1"],
      target: "v1.22.4+k3s1",
    });

    it("refuses before downloading and prints the ladder", async () => {
      await withSandbox("dash", "curl", async (sandbox) => {
        await writeFile(path.join(sandbox.binDir, "k3s"), fakeBinary("v1.18.20+k3s1", "amd64"), { mode: 0o755 });
        state.preflight = () => ({ status: 200, body: REJECTION });
        state.settings = { cluster: "prod-1" };
        const result = await sandbox.pipeInstall(`${baseUrl}/`, ["server"]);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain("skipped-minor");
        expect(result.stderr).toContain("servers upgrade one minor version at a time");
        expect(result.stderr).toContain("v1.18.20+k3s1 -> v1.19.16+k3s1 -> v1.20.15+k3s1 -> v1.21.14+k3s1 -> v1.22.4+k3s1");
        expect(downloads()).toEqual([]);
        expect(reports()).toEqual([]);
        expect(sha256(await readFile(path.join(sandbox.binDir, "k3s")))).toBe(sha256(fakeBinary("v1.18.20+k3s1", "amd64")));
      });
    });

    it("installs with the override and reports it", async () => {
      await withSandbox("busybox", "wget", async (sandbox) => {
        state.preflight = () => ({ status: 200, body: REJECTION });
        state.settings = { cluster: "prod-1" };
        const result = await sandbox.pipeInstall(`${baseUrl}/`, [], { INSTALL_MIRROR_SKIP_SKEW_CHECK: "true" });
        expect(result.code).toBe(0);
        expect(result.stderr).toContain("INSTALL_MIRROR_SKIP_SKEW_CHECK=true");
        expect(await installedSha256(sandbox)).toBe(sha256(fakeBinary("v1.33.6+k3s1", "amd64")));
        const sent = reports();
        expect(sent.map((report) => report.phase)).toEqual(["before", "after"]);
        expect(sent.every((report) => report.overrideUsed === true)).toBe(true);
        expect(sent[1]).toMatchObject({ cluster: "prod-1", role: "server", versionBefore: null, versionAfter: "v1.33.6+k3s1", outcome: "succeeded" });
      });
    });

    it.each([
      [500, "HTTP 500"],
      [400, "HTTP 400"],
    ])("fails closed when preflight returns %i", async (status, expected) => {
      await withSandbox("dash", "curl", async (sandbox) => {
        state.preflight = () => ({ status, body: '{"type":"error"}' });
        const result = await sandbox.pipeInstall(`${baseUrl}/`);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(expected);
        expect(result.stderr).toContain("INSTALL_MIRROR_SKIP_SKEW_CHECK=true");
        expect(downloads()).toEqual([]);
      });
    });

    it("fails closed on a reply without allowed", async () => {
      await withSandbox("dash", "wget", async (sandbox) => {
        state.preflight = () => ({ status: 200, body: "<html>proxy page</html>" });
        const result = await sandbox.pipeInstall(`${baseUrl}/`);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('a reply without "allowed"');
        expect(downloads()).toEqual([]);
      });
    });

    it("continues when the mirror has no skew checks", async () => {
      await withSandbox("dash", "wget", async (sandbox) => {
        const result = await sandbox.pipeInstall(`${baseUrl}/`);
        expect(result.code).toBe(0);
        expect(result.stdout).toContain("the mirror has no version-skew checks");
      });
    });
  });

  it("installs although the report endpoint fails", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      state.settings = { cluster: "prod-1" };
      state.report = { status: 500, body: "broken" };
      const result = await sandbox.pipeInstall(`${baseUrl}/`);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain("could not send the before-install report");
      expect(reports().map((report) => report.phase)).toEqual(["before", "after"]);
    });
  });

  it("exits with the installer's status and reports the failure", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      state.settings = { cluster: "prod-1" };
      state.installerText = "#!/bin/sh\necho 'installer failing on purpose' >&2\nexit 7\n";
      const result = await sandbox.pipeInstall(`${baseUrl}/`);
      expect(result.code).toBe(7);
      expect(result.stderr).toContain("installer failing on purpose");
      expect(reports().at(-1)).toMatchObject({ phase: "after", outcome: "failed", versionAfter: null });
    });
  });

  it("refuses an installer whose SHA-256 differs from the record", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      state.settings = { installer: { sha256: "0".repeat(64), text: "#!/bin/sh\ntouch \"$INSTALL_K3S_BIN_DIR/ran\"\n", sourceUrl: "x" } };
      const result = await sandbox.pipeInstall(`${baseUrl}/`);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`but the mirror's record is ${"0".repeat(64)}`);
      expect(await sandbox.installedFiles()).toEqual([]);
    });
  });

  it("writes an installer without a final newline byte for byte", async () => {
    await withSandbox("busybox", "curl", async (sandbox) => {
      state.installerText = '#!/bin/sh\nprintf "%s" "$INSTALL_K3S_VERSION" > "$INSTALL_K3S_BIN_DIR/version"';
      const result = await sandbox.pipeInstall(`${baseUrl}/`);
      expect(result.code).toBe(0);
      expect(await readFile(path.join(sandbox.binDir, "version"), "utf8")).toBe("v1.33.6+k3s1");
    });
  });

  it("runs nothing when the script is cut short", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      const full = renderWrappedScript({ baseUrl, defaultChannel: "stable", channel: null, version: null, cluster: null, installer: { sha256: sha256(STAND_IN), text: STAND_IN, sourceUrl: "x" } });
      for (const fraction of [0.1, 0.5, 0.9, 0.999]) {
        state.scriptOverride = full.slice(0, Math.floor(full.length * fraction));
        const result = await sandbox.pipeInstall(`${baseUrl}/`);
        expect(result.stdout).toBe("");
        expect(requests.filter((request) => request.path !== "/")).toEqual([]);
      }
      expect(await sandbox.installedFiles()).toEqual([]);
    });
  });

  it("leaves its variables out of the service environment", async () => {
    await withSandbox("busybox", "wget", async (sandbox) => {
      state.settings = { cluster: "prod-1" };
      const result = await sandbox.pipeInstall(`${baseUrl}/`, ["server"], { K3S_KUBECONFIG_MODE: "644" });
      expect(result.code).toBe(0);
      const envFile = await readFile(path.join(sandbox.systemdDir, "k3s.service.env"), "utf8");
      expect(envFile.trim()).toBe("K3S_KUBECONFIG_MODE=644");
      expect(await sandbox.systemctlCalls()).toEqual([`enable ${sandbox.systemdDir}/k3s.service`, "daemon-reload"]);
    });
  });

  it("refuses INSTALL_K3S_COMMIT, which the mirror cannot serve", async () => {
    await withSandbox("dash", "curl", async (sandbox) => {
      const result = await sandbox.pipeInstall(`${baseUrl}/`, [], { INSTALL_K3S_COMMIT: "0123456789abcdef0123456789abcdef01234567" });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("INSTALL_K3S_COMMIT");
      expect(requests.map((request) => request.path)).toEqual(["/"]);
    });
  });
});
