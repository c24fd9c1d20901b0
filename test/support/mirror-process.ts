import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const TEST_ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef";

export type MirrorProcess = {
  url: string;
  dataDir: string;
  adminToken: string;
  process: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
};

/**
 * Starts the mirror exactly as `npm start` does (scripts/start.ts under tsx) on a free
 * loopback port, and resolves once its start-up line names the URL.
 */
export async function startMirrorProcess(options: { vars?: Record<string, string>; dataDir?: string; adminToken?: string | null } = {}): Promise<MirrorProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), "mirror-e2e-")));
  const adminToken = options.adminToken === undefined ? TEST_ADMIN_TOKEN : options.adminToken;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: "127.0.0.1",
    PORT: "0",
    MIRROR_DATA_DIR: dataDir,
    MIRROR_CRON: "off",
    // Defaults point at the internet; tests must never reach it.
    UPSTREAM_CHANNELS_URL: "http://127.0.0.1:9/v1-release/channels",
    UPSTREAM_RELEASES_API: "http://127.0.0.1:9/repos/k3s-io/k3s/releases",
    UPSTREAM_INSTALL_SCRIPT_URL: "http://127.0.0.1:9/install.sh",
    ...options.vars,
  };
  if (adminToken) env.ADMIN_TOKEN = adminToken;
  else delete env.ADMIN_TOKEN;

  const child = spawn(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "scripts/start.ts")], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mirror did not start within 60 s:\n${output}`)), 60_000);
    child.stdout!.on("data", () => {
      const match = /"event":"started","url":"([^"]+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`mirror exited with ${code} before starting:\n${output}`));
    });
  });

  return {
    url,
    dataDir,
    adminToken: adminToken ?? "",
    process: child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("close", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
