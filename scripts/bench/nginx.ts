/**
 * The baseline server: nginx from the Debian package, run in the foreground with its own
 * config, pid, logs and temp paths in a temporary directory, listening on 127.0.0.1 only.
 * It serves the bytes the mirror serves, from files, with no application code in the path.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { registerCleanup } from "./cleanup";
import { freeLoopbackPort, waitForHttp } from "./net";

const NGINX_START_TIMEOUT_MS = 10_000;

/** A response nginx returns for an exact path, read from a file written beforehand. */
export type StaticResponse = {
  path: string;
  status: 200 | 302;
  contentType: string;
  body: string;
  location?: string;
};

export type NginxSite = {
  /** Exact-path responses, such as the channel collection and the 302 of a channel. */
  responses: StaticResponse[];
  /** Files served by URL prefix: `/k3s-io/k3s/releases/download/` maps to a directory. */
  fileRoots: { urlPrefix: string; directory: string }[];
};

export type NginxServer = { url: string; version: string; pid: number; stop: () => Promise<void> };

/** Returns the version nginx prints, for example `1.22.1`. */
export function nginxVersion(binary: string): string {
  return spawnSync(binary, ["-v"], { encoding: "utf8" }).stderr.trim().replace(/^nginx version: nginx\//, "");
}

/** Writes the site's files and config under `workDir` and runs nginx on a free loopback port. */
export async function startNginx(binary: string, workDir: string, site: NginxSite): Promise<NginxServer> {
  const port = await freeLoopbackPort();
  const responsesDir = path.join(workDir, "responses");
  await mkdir(responsesDir, { recursive: true });
  await mkdir(path.join(workDir, "temp"), { recursive: true });

  const locations: string[] = [];
  for (const [index, response] of site.responses.entries()) {
    const file = `response-${index}`;
    await writeFile(path.join(responsesDir, file), response.body);
    locations.push(responseLocation(response, `/_responses/${file}`, path.join(responsesDir, file)));
  }
  for (const root of site.fileRoots) {
    locations.push(`location ${root.urlPrefix} {\n  alias ${root.directory.replace(/\/?$/, "/")};\n  types { }\n  default_type application/octet-stream;\n}`);
  }

  const config = [
    "daemon off;",
    // One worker process, as workerd runs the Worker on one thread.
    "worker_processes 1;",
    `pid ${path.join(workDir, "nginx.pid")};`,
    `error_log ${path.join(workDir, "error.log")} warn;`,
    "events { worker_connections 4096; }",
    "http {",
    "  access_log off;",
    "  sendfile on;",
    "  tcp_nopush on;",
    "  keepalive_requests 100000;",
    `  client_body_temp_path ${path.join(workDir, "temp/body")};`,
    `  proxy_temp_path ${path.join(workDir, "temp/proxy")};`,
    `  fastcgi_temp_path ${path.join(workDir, "temp/fastcgi")};`,
    `  uwsgi_temp_path ${path.join(workDir, "temp/uwsgi")};`,
    `  scgi_temp_path ${path.join(workDir, "temp/scgi")};`,
    "  server {",
    `    listen 127.0.0.1:${port};`,
    ...locations.map((block) => block.replace(/^/gm, "    ")),
    "  }",
    "}",
    "",
  ].join("\n");
  const configPath = path.join(workDir, "nginx.conf");
  await writeFile(configPath, config);
  // Worker processes switch from root to the user nobody, who must read these files.
  await chmod(workDir, 0o755);

  const child: ChildProcess = spawn(binary, ["-e", path.join(workDir, "error.log"), "-p", workDir, "-c", configPath], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`nginx exited with ${code}: ${stderr.trim()}`))));
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([waitForHttp(`${url}/_not_found`, NGINX_START_TIMEOUT_MS), exited]);

  const stopNginx = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      // SIGQUIT is nginx's graceful shutdown.
      child.kill("SIGQUIT");
    });
  const unregister = registerCleanup(stopNginx);
  return {
    url,
    version: nginxVersion(binary),
    pid: child.pid!,
    stop: async () => {
      unregister();
      await stopNginx();
    },
  };
}

/**
 * Renders one exact-match location. A 302 with a body of our choosing needs the
 * error_page detour: `return 302` would write nginx's own body.
 */
function responseLocation(response: StaticResponse, internalUri: string, file: string): string {
  const contentType = `default_type "${response.contentType}";`;
  if (response.status === 200) return `location = ${response.path} {\n  types { }\n  ${contentType}\n  alias ${file};\n}`;
  if (!response.location) throw new Error(`the 302 response for ${response.path} has no Location`);
  return [
    `location = ${response.path} {`,
    `  error_page 418 =302 ${internalUri};`,
    "  return 418;",
    "}",
    `location = ${internalUri} {`,
    "  internal;",
    "  types { }",
    `  ${contentType}`,
    `  add_header Location "${response.location}" always;`,
    `  alias ${file};`,
    "}",
  ].join("\n");
}
