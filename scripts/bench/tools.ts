/** Command-line tools from Debian packages that the benchmark uses as baselines or clients. */
import { spawnSync } from "node:child_process";

export type Tool = { name: string; paths: string[]; versionArgs: string[]; debianPackage: string };

export const NGINX: Tool = { name: "nginx", paths: ["/usr/sbin/nginx", "/usr/bin/nginx"], versionArgs: ["-v"], debianPackage: "nginx-light" };
export const WRK: Tool = { name: "wrk", paths: ["/usr/bin/wrk", "/usr/local/bin/wrk"], versionArgs: ["-v"], debianPackage: "wrk" };

/** Returns the path of the tool's binary, or null when none runs. */
export function findTool(tool: Tool): string | null {
  for (const candidate of tool.paths) {
    const result = spawnSync(candidate, tool.versionArgs, { stdio: "ignore" });
    // wrk -v prints its version and exits 1, so any exit status counts.
    if (!result.error) return candidate;
  }
  return null;
}

/**
 * Finds the tool, installing its Debian package with apt-get when it is missing and this
 * process runs as root. Returns null with a reason when neither works, so the caller can
 * skip what needs it instead of failing.
 */
export function ensureTool(tool: Tool, log: (line: string) => void): { binary: string } | { binary: null; reason: string } {
  const found = findTool(tool);
  if (found) return { binary: found };
  if (process.getuid?.() !== 0) return { binary: null, reason: `${tool.name} is not installed and this user is not root; install the Debian package ${tool.debianPackage}` };

  log(`${tool.name} not found: installing the Debian package ${tool.debianPackage} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", tool.debianPackage], { env, stdio: "inherit" });
  if (install().status !== 0) {
    spawnSync("apt-get", ["update", "-qq"], { env, stdio: "inherit" });
    install();
  }
  const installed = findTool(tool);
  return installed ? { binary: installed } : { binary: null, reason: `apt-get install ${tool.debianPackage} failed; install it by hand` };
}
