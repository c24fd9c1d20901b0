/**
 * Runs the mirror on this machine through Miniflare: `npm start [-- --port 8787 ...]`.
 * Settings come from flags or the environment; any Worker var can be set by its name.
 */
import { ConfigError, loadConfig, VAR_NAMES } from "../src/config";
import type { Env } from "../src/env";
import { parseArgsOrExit } from "./lib/cli-args";
import { startLocalMirror } from "./lib/local-mirror";

const { values } = parseArgsOrExit(
  {
    options: {
      host: { type: "string", default: process.env.HOST ?? "127.0.0.1" },
      port: { type: "string", default: process.env.PORT ?? "8787" },
      "data-dir": { type: "string", default: process.env.MIRROR_DATA_DIR ?? "./.mirror-data" },
      "admin-token": { type: "string", default: process.env.ADMIN_TOKEN },
      "no-cron": { type: "boolean", default: process.env.MIRROR_CRON === "off" },
      help: { type: "boolean", default: false },
    },
  },
  "npm start",
);

if (values.help) {
  console.log(`Usage: npm start -- [--host 127.0.0.1] [--port 8787] [--data-dir ./.mirror-data] [--admin-token TOKEN] [--no-cron]

Environment: HOST, PORT, MIRROR_DATA_DIR, ADMIN_TOKEN, MIRROR_CRON=off, and any Worker var by name:
  ${VAR_NAMES.join(", ")}`);
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port "${values.port}": use an integer from 0 to 65535`);
  process.exit(2);
}

const vars: Record<string, string> = {};
for (const name of VAR_NAMES) {
  const value = process.env[name];
  if (value !== undefined && value !== "") vars[name] = value;
}
if (values["admin-token"]) vars.ADMIN_TOKEN = values["admin-token"];

// On an invalid setting the Worker returns 503 to every request, so locally stop before listening.
try {
  loadConfig(vars as unknown as Env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`${error.message}; fix the setting and start again`);
  process.exit(2);
}

const mirror = await startLocalMirror({ host: values.host!, port, dataDir: values["data-dir"]!, vars, cron: !values["no-cron"] });
console.log(JSON.stringify({ event: "started", url: mirror.url, dataDir: values["data-dir"], adminApi: vars.ADMIN_TOKEN || vars.ADMIN_TOKENS ? "enabled" : "disabled", cron: !values["no-cron"] }));

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  await mirror.stop();
  process.stdout.write(`${JSON.stringify({ event: "stopped", signal })}\n`, () => process.exit(0));
};
// The launcher owns these signals. Miniflare bundles signal-exit, whose listener
// re-raises the signal when it counts no listener besides its own copies. That would
// kill the process before dispose() finishes.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.removeAllListeners(signal);
  process.on(signal, () => void stop(signal));
}
