import { readdir, readFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CRON_SCHEDULE = "*/15 * * * *";
const CRON_PERIOD_MS = 15 * 60 * 1000;
// Matches compatibility_date in wrangler.toml.
const COMPATIBILITY_DATE = "2026-04-20";

export type LocalMirrorOptions = {
  host: string;
  port: number;
  dataDir: string;
  vars: Record<string, string>;
  cron: boolean;
  log?: (line: string) => void;
};

export type LocalMirror = {
  url: string;
  miniflare: Miniflare;
  runCron: () => Promise<void>;
  stop: () => Promise<void>;
};

/** Bundles the Worker with esbuild, as wrangler does, into `outDir`. */
export async function bundleWorker(outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const outfile = path.join(outDir, "worker.js");
  await build({
    entryPoints: [path.join(PROJECT_ROOT, "src/index.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    logLevel: "warning",
  });
  return outfile;
}

/** Splits a migration file into statements: comments dropped, split at `;` ending a line. */
export function splitSql(text: string): string[] {
  const withoutComments = text
    .split("\n")
    .map((line) => line.replace(/--.*$/, ""))
    .join("\n");
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

/**
 * Applies migrations/*.sql not yet recorded in `d1_migrations`, the table wrangler
 * keeps, so a data directory stays compatible with `wrangler d1 migrations`.
 */
export async function applyMigrations(db: D1Database): Promise<string[]> {
  await db.prepare("CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)").run();
  const { results } = await db.prepare("SELECT name FROM d1_migrations").all<{ name: string }>();
  const applied = new Set(results.map((row) => row.name));
  const directory = path.join(PROJECT_ROOT, "migrations");
  const files = (await readdir(directory)).filter((file) => file.endsWith(".sql")).sort();
  const newlyApplied: string[] = [];
  for (const file of files) {
    if (applied.has(file)) continue;
    const statements = splitSql(await readFile(path.join(directory, file), "utf8"));
    await db.batch([...statements.map((sql) => db.prepare(sql)), db.prepare("INSERT INTO d1_migrations (name) VALUES (?)").bind(file)]);
    newlyApplied.push(file);
  }
  return newlyApplied;
}

/**
 * Starts the mirror on Miniflare with D1 and R2 persisted under `dataDir`, applies
 * migrations, and fires the cron handler every 15 minutes on the clock when `cron` is on.
 */
export async function startLocalMirror(options: LocalMirrorOptions): Promise<LocalMirror> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const scriptPath = await bundleWorker(path.join(dataDir, "build"));

  const miniflare = new Miniflare({
    scriptPath,
    modules: true,
    modulesRoot: path.dirname(scriptPath),
    compatibilityDate: COMPATIBILITY_DATE,
    d1Databases: { DB: "k3s-channel-mirror" },
    r2Buckets: { FILES: "k3s-channel-mirror" },
    defaultPersistRoot: path.join(dataDir, "state"),
    bindings: options.vars,
    host: options.host,
    port: options.port,
    log: undefined,
  });
  const url = (await miniflare.ready).toString().replace(/\/$/, "");
  const applied = await applyMigrations((await miniflare.getD1Database("DB")) as unknown as D1Database);
  if (applied.length > 0) log(JSON.stringify({ event: "migrations_applied", files: applied }));

  const runCron = async () => {
    const worker = await miniflare.getWorker();
    await worker.scheduled({ cron: CRON_SCHEDULE, scheduledTime: new Date() });
  };

  let timer: NodeJS.Timeout | undefined;
  const scheduleNext = () => {
    const delay = CRON_PERIOD_MS - (Date.now() % CRON_PERIOD_MS);
    timer = setTimeout(async () => {
      try {
        await runCron();
      } catch (error) {
        log(JSON.stringify({ event: "cron_failed", error: String(error) }));
      }
      scheduleNext();
    }, delay);
  };
  if (options.cron) scheduleNext();

  return {
    url,
    miniflare,
    runCron,
    stop: async () => {
      if (timer) clearTimeout(timer);
      await miniflare.dispose();
    },
  };
}
