/**
 * The mirror under test, started as `npm start` does (scripts/start.ts in its own Node
 * process), so that its workerd child process can be found and measured.
 */
import { rm } from "node:fs/promises";
import { startMirrorProcess, type MirrorProcess } from "../../test/support/mirror-process";
import { registerCleanup } from "./cleanup";
import { findDescendants } from "./memory";

export const BENCH_ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";

export type BenchMirror = {
  url: string;
  adminToken: string;
  process: MirrorProcess;
  /** The workerd processes that run the Worker and its D1 and R2 storage. */
  workerdPids: number[];
  /** Calls the admin API and raises with the reply when the status is not 2xx. */
  admin: (method: string, path: string, body?: string) => Promise<unknown>;
  stop: () => Promise<void>;
};

/**
 * Starts the mirror with `vars` on a free loopback port, with a fresh data directory
 * that `stop()` removes.
 */
export async function startBenchMirror(vars: Record<string, string>): Promise<BenchMirror> {
  const mirror = await startMirrorProcess({ vars, adminToken: BENCH_ADMIN_TOKEN });
  const workerdPids = await findDescendants(mirror.process.pid!, "workerd");

  const admin = async (method: string, path: string, body?: string) => {
    const response = await fetch(`${mirror.url}${path}`, { method, body, headers: { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} returned ${response.status}: ${text.slice(0, 500)}`);
    return text.length > 0 ? JSON.parse(text) : null;
  };

  const stopMirror = async () => {
    await mirror.stop();
    await rm(mirror.dataDir, { recursive: true, force: true });
  };
  const unregister = registerCleanup(stopMirror);
  const stop = async () => {
    unregister();
    await stopMirror();
  };
  return { url: mirror.url, adminToken: BENCH_ADMIN_TOKEN, process: mirror, workerdPids, admin, stop };
}
