import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, startMirrorProcess, type MirrorProcess } from "../support/mirror-process";
import { run } from "../support/run";

const NODE_TOKEN = "e2e-node-token-0123456789abcdef";

const CHANNEL_CONFIG = "channels:\n- name: stable\n  latestRegexp: v1\\.30\\.\n- name: v1.29\n  latestRegexp: v1\\.29\\.\n";
const RELEASES = ["v1.29.9+k3s1", "v1.30.3+k3s1", "v1.30.4+k3s1"].map((version, index) => ({
  tag_name: version,
  prerelease: false,
  draft: false,
  published_at: `2026-01-0${index + 1}T00:00:00Z`,
  assets: [],
}));

describe("npm run policy against a running mirror", () => {
  let mirror: MirrorProcess;
  let workDir: string;

  const policyCli = (...args: string[]) =>
    run(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "scripts/policy.ts"), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, MIRROR_URL: mirror.url, ADMIN_TOKEN: mirror.adminToken },
    });

  const admin = (method: string, urlPath: string, body: string) =>
    run("curl", ["-sS", "--fail-with-body", "-X", method, "-H", `Authorization: Bearer ${mirror.adminToken}`, "--data-binary", body, `${mirror.url}${urlPath}`]);

  beforeAll(async () => {
    // CHANNEL_GATE=known lets channels resolve over imported releases without files.
    mirror = await startMirrorProcess({ vars: { CHANNEL_GATE: "known", NODE_TOKENS: `e2e:${NODE_TOKEN}` } });
    workDir = await mkdtemp(path.join(os.tmpdir(), "policy-cli-"));
    expect((await admin("PUT", "/api/v1/channel-config", CHANNEL_CONFIG)).code).toBe(0);
    const imported = await admin("PUT", "/api/v1/releases", JSON.stringify(RELEASES));
    expect(imported.code, imported.stdout).toBe(0);
  });

  afterAll(async () => {
    await mirror?.stop();
  });

  it("validates offline, applies, lists history and rolls back", async () => {
    const first = path.join(workDir, "first.yaml");
    await writeFile(first, "channels:\n  stable:\n    pin: v1.30.3+k3s1\n");
    const second = path.join(workDir, "second.yaml");
    await writeFile(second, "channels:\n  stable:\n    follow: v1.29\n");

    const offline = await policyCli("validate", first, "--offline");
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain("valid against the policy schema");

    expect((await policyCli("apply", first, "--comment", "pin stable")).stdout).toContain("stored revision 1");
    const applied = await policyCli("apply", second, "--comment", "follow v1.29");
    expect(applied.stdout).toContain('- channels.stable.pin: "v1.30.3+k3s1"\n');
    expect(applied.stdout).toContain('+ channels.stable.follow: "v1.29"\n');

    const history = await policyCli("history");
    expect(history.stdout.split("\n").filter(Boolean).map((line) => line.split("\t")[3])).toEqual(["follow v1.29", "pin stable"]);

    const rollback = await policyCli("rollback", "1", "--comment", "back to the pin");
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain("stored revision 3, a copy of revision 1");

    const lookup = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{redirect_url}", `${mirror.url}/t/${NODE_TOKEN}/v1-release/channels/stable`]);
    expect(lookup.stdout).toBe(`${mirror.url}/t/${NODE_TOKEN}/k3s-io/k3s/releases/tag/v1.30.3+k3s1`);
  });

  it("exits 1 and lists the problems of a rejected change", async () => {
    const file = path.join(workDir, "rejected.yaml");
    await writeFile(file, "defaultChannel: prod\nchannels:\n  stable:\n    pin: v1.30.9+k3s1\n");
    const result = await policyCli("apply", file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("apply rejected, nothing was stored:");
    expect(result.stderr).toContain("  channels.stable.pin: pins v1.30.9+k3s1, which is not published on this mirror yet");
    expect(result.stderr).toContain('  defaultChannel: names channel "prod", which does not exist');
  });

  it("answers 401 to curl without the node token", async () => {
    const result = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", `${mirror.url}/v1-release/channels/stable`]);
    expect(result.stdout).toBe("401");
  });
});
