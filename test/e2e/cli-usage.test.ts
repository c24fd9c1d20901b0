import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../support/run";

// Usage errors of the command-line tools: each exits 2 with one line that names the
// mistake, and no stack trace. None of these runs reaches a mirror or an upstream.

const ROOT = path.resolve(import.meta.dirname, "../..");
const ADMIN_TOKEN = "cli-usage-admin-token-0123456789";

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "cli-usage-"));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Runs a script as `npm run` does, with loopback-only settings. */
function script(name: string, args: string[], extra: Record<string, string> = {}) {
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: scratch,
    MIRROR_URL: "http://127.0.0.1:9",
    ADMIN_TOKEN,
    MIRROR_CRON: "off",
    UPSTREAM_CHANNELS_URL: "http://127.0.0.1:9/v1-release/channels",
    UPSTREAM_RELEASES_API: "http://127.0.0.1:9/repos/k3s-io/k3s/releases",
    UPSTREAM_INSTALL_SCRIPT_URL: "http://127.0.0.1:9/install.sh",
    ...extra,
  };
  return run(process.execPath, ["--import", "tsx", path.join("scripts", name), ...args], { env, cwd: ROOT, timeoutMs: 30_000 });
}

describe("command-line usage errors", () => {
  it.each(["sync.ts", "import-releases.ts", "export-releases.ts", "start.ts"])("%s rejects an unknown option", async (name) => {
    const result = await script(name, ["--bogus"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--bogus");
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it("import-releases names a missing source", async () => {
    const missing = path.join(scratch, "no-such-dir");
    const result = await script("import-releases.ts", [missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${missing} does not exist`);
  });

  it("start.ts rejects an invalid setting before listening", async () => {
    const result = await script("start.ts", ["--port", "0", "--data-dir", path.join(scratch, "data")], { ADMIN_TOKEN: "short" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("ADMIN_TOKEN must be 16 to 256 characters");
    expect(result.stdout).not.toContain('"event":"started"');
  });
});
