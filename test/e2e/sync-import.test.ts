import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import { PROJECT_ROOT, startMirrorProcess, type MirrorProcess } from "../support/mirror-process";
import { run } from "../support/run";

const NEW = "v1.33.6+k3s1";
const OLD = "v1.32.9+k3s1";
// Larger than the 1 MiB body limit of the other admin routes.
const BINARY_BYTES = 3 * 1024 * 1024;

function cli(script: string, args: string[], mirror: MirrorProcess) {
  return run(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "scripts", script), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, MIRROR_URL: mirror.url, ADMIN_TOKEN: mirror.adminToken },
    timeoutMs: 120_000,
  });
}

async function getStatus(mirror: MirrorProcess): Promise<any> {
  const response = await fetch(`${mirror.url}/api/v1/status`, { headers: { Authorization: `Bearer ${mirror.adminToken}` } });
  return response.json();
}

function archState(status: any, version: string, arch: string): string | undefined {
  return status.versions.find((entry: { version: string }) => entry.version === version)?.arches.find((entry: { arch: string }) => entry.arch === arch)?.state;
}

const INSTALLER = "#!/bin/sh\necho installer\n";
// `printf '#!/bin/sh\necho installer\n' | sha256sum`
const INSTALLER_SHA256 = "b8d79dd9085bc5326ca1968c37b26339e525478a8c8befd9dec5ae891c779bed";

describe("air-gapped seeding", () => {
  // The fake upstream only generates the release files here; the mirrors never reach it.
  let files: FakeUpstream;
  let mirror: MirrorProcess;
  let seeded: MirrorProcess | undefined;
  let source: string;
  let importRun: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    files = await startFakeUpstream({
      releases: [
        { version: NEW, arches: ["amd64", "arm64"], fileSize: BINARY_BYTES },
        { version: OLD, arches: ["amd64"] },
      ],
    });
    source = await mkdtemp(path.join(os.tmpdir(), "import-source-"));
    for (const [version, names] of [
      [NEW, ["sha256sum-amd64.txt", "k3s", "sha256sum-arm64.txt", "k3s-arm64"]],
      [OLD, ["sha256sum-amd64.txt", "k3s"]],
    ] as const) {
      await mkdir(path.join(source, version), { recursive: true });
      for (const name of names) await writeFile(path.join(source, version, name), files.bytesOf(version, name));
    }
    await writeFile(path.join(source, "install.sh"), INSTALLER);
    // One bad file: a flipped byte in the arm64 binary.
    const bad = files.bytesOf(NEW, "k3s-arm64");
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
    await writeFile(path.join(source, NEW, "k3s-arm64"), bad);

    mirror = await startMirrorProcess({ vars: { MIRROR_ARCHES: "amd64,arm64" } });
    importRun = await cli("import-releases.ts", [source], mirror);
  });

  afterAll(async () => {
    await mirror?.stop();
    await seeded?.stop();
    await files?.stop();
  });

  it("import-releases reports the bad file and exits 1", () => {
    expect(importRun.code).toBe(1);
    const rejected = importRun.stdout.split("\n").filter((line) => line.includes(": rejected: "));
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toContain(`${NEW}/k3s-arm64`);
    expect(rejected[0]).toContain(`expected ${files.sha256Of(NEW, "k3s-arm64")}`);
    expect(importRun.stdout).toContain("6 file(s) imported, 1 rejected or skipped");
    expect(importRun.stdout).toContain(`imported install.sh as the upstream installer (sha256 ${INSTALLER_SHA256})`);
  });

  it("publishes complete arches and not the one with the bad file", async () => {
    const status = await getStatus(mirror);
    expect(archState(status, NEW, "amd64")).toBe("published");
    expect(archState(status, OLD, "amd64")).toBe("published");
    expect(archState(status, NEW, "arm64")).toBe("failed");

    const bad = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", `${mirror.url}/k3s-io/k3s/releases/download/${NEW}/k3s-arm64`]);
    expect(bad.stdout).toBe("404");
    const good = await run("sh", ["-c", `curl -sSf "${mirror.url}/k3s-io/k3s/releases/download/${NEW}/k3s" | sha256sum`]);
    expect(good.stdout.split(" ")[0]).toBe(files.sha256Of(NEW, "k3s"));
  });

  it("offers imported versions on regexp channels", async () => {
    const latest = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", `${mirror.url}/v1-release/channels/latest`]);
    expect(latest.stdout).toBe(`302 ${mirror.url}/k3s-io/k3s/releases/tag/${NEW}`);
  });

  it("PUT /api/v1/files needs the checksum file first", async () => {
    const response = await fetch(`${mirror.url}/api/v1/files/v1.31.1+k3s1/k3s`, { method: "PUT", headers: { Authorization: `Bearer ${mirror.adminToken}` }, body: "binary" });
    expect(response.status).toBe(409);
    expect(((await response.json()) as { message: string }).message).toContain("import sha256sum-amd64.txt for v1.31.1+k3s1 first");
  });

  it("PUT /api/v1/files rejects a request without the admin token", async () => {
    const response = await fetch(`${mirror.url}/api/v1/files/${encodeURIComponent(NEW)}/k3s`, { method: "PUT", body: "binary" });
    expect(response.status).toBe(401);
  });

  it("export-releases seeds a second mirror through a tarball", async () => {
    const tarball = path.join(await mkdtemp(path.join(os.tmpdir(), "export-")), "releases.tar.gz");
    const exported = await cli("export-releases.ts", [tarball], mirror);
    expect(exported.stderr).toBe("");
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain("5 file(s) exported");
    expect(exported.stdout).toContain(`exported install.sh (${INSTALLER.length} bytes)`);

    seeded = await startMirrorProcess({ vars: { MIRROR_ARCHES: "amd64,arm64" } });
    const imported = await cli("import-releases.ts", [tarball], seeded);
    expect(imported.stdout).toContain("6 file(s) imported, 0 rejected or skipped");
    const wrapped = await run("curl", ["-sSf", `${seeded.url}/`]);
    expect(wrapped.stdout).toContain(INSTALLER);
    expect(wrapped.stdout).toContain(INSTALLER_SHA256);
    expect(imported.code).toBe(0);

    const status = await getStatus(seeded);
    expect(archState(status, NEW, "amd64")).toBe("published");
    expect(archState(status, OLD, "amd64")).toBe("published");
    const target = path.join(path.dirname(tarball), "k3s");
    await run("curl", ["-sSf", "-o", target, `${seeded.url}/k3s/${encodeURIComponent(NEW)}/k3s`]);
    expect(createHash("sha256").update(await readFile(target)).digest("hex")).toBe(files.sha256Of(NEW, "k3s"));
  });
});
