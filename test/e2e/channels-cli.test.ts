import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, startMirrorProcess, type MirrorProcess } from "../support/mirror-process";
import { run } from "../support/run";

const SHARED_FIXTURES = path.join(PROJECT_ROOT, "../shared/fixtures");
const hasSharedFixtures = existsSync(path.join(SHARED_FIXTURES, "k3s-channels-2023.json"));
if (!hasSharedFixtures) console.warn(`skipping comparisons with upstream captures: ${SHARED_FIXTURES} is absent`);

function cli(mirror: MirrorProcess, ...args: string[]) {
  return run(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "scripts/channels.ts"), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, MIRROR_URL: mirror.url, ADMIN_TOKEN: mirror.adminToken },
  });
}

describe("channels CLI against a running mirror", () => {
  let mirror: MirrorProcess;

  beforeAll(async () => {
    // Releases imported without files are never published; "known" serves them as upstream does.
    mirror = await startMirrorProcess({ vars: { CHANNEL_GATE: "known" } });
  });

  afterAll(async () => {
    await mirror?.stop();
  });

  it("imports a config and releases, then serves the channels to curl", async () => {
    expect((await cli(mirror, "import-config", "test/fixtures/k3s-channels-2023.yaml")).code).toBe(0);
    const imported = await cli(mirror, "import-releases", "test/fixtures/k3s-releases-2023.json");
    expect(imported.stdout).toContain("imported 18 releases");

    const redirect = await run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", `${mirror.url}/v1-release/channels/v1.24`]);
    expect(redirect.stdout).toBe(`302 ${mirror.url}/k3s-io/k3s/releases/tag/v1.24.10+k3s1`);

    const followed = await run("curl", ["-w", "%{url_effective}", "-L", "-s", "-S", `${mirror.url}/v1-release/channels/stable`, "-o", "/dev/null"]);
    expect(followed.stdout.replace(/.*\//, "")).toBe("v1.25.6+k3s1");
  });

  it.runIf(hasSharedFixtures)("reproduces the captured 2023 collection byte for byte", async () => {
    const captured = await readFile(path.join(SHARED_FIXTURES, "k3s-channels-2023.json"), "utf8");
    const served = await run("curl", ["-sS", "-f", "-H", "X-Forwarded-Proto: https", "-H", "X-Forwarded-Host: update.k3s.io", `${mirror.url}/v1-release/channels`]);
    expect(served.stdout).toBe(captured.endsWith("\n") ? captured : `${captured}\n`);
  });

  it.runIf(hasSharedFixtures)("loads the captured rke2 config", async () => {
    const result = await cli(mirror, "import-config", path.join(SHARED_FIXTURES, "rke2-channels.yaml"));
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/imported 2\d channels/);
  });

  it("rejects a config with an invalid regexp and names the channel", async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), "channels-cli-")), "bad.yaml");
    await writeFile(file, "channels:\n- name: v1.30\n  latestRegexp: v1\\.30(?!-rc)\n");
    const result = await cli(mirror, "import-config", file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('channel "v1.30" field latestRegexp');
  });
});
