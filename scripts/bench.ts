/**
 * Benchmarks the mirror against nginx and against direct upstream access, in one run on
 * loopback: `npm run bench` (full, writes BENCHMARKS.md) or `npm run bench -- --quick`
 * (small sizes and short runs, a smoke check that writes only the JSON record).
 *
 * Optional pieces (nginx, wrk, the installer stand-in, dash) are skipped with a message when
 * missing, and the run fails when the mirror does not start or returns errors.
 */
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "./lib/local-mirror";
import { benchChannels } from "./bench/channels";
import { acquireRunLock, runCleanups } from "./bench/cleanup";
import { benchFiles } from "./bench/files";
import { benchInstall } from "./bench/install";
import { benchSync } from "./bench/sync";
import { ensureTool, NGINX, WRK } from "./bench/tools";
import { nginxVersion } from "./bench/nginx";
import { describeMachine, renderMarkdown, writeJsonReport, type BenchReport, type Section } from "./bench/report";
import { benchPlan, type BenchPlan } from "./bench/plan";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "results-dir": { type: "string", default: path.join(PROJECT_ROOT, "bench-results") },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  console.log(`Usage: npm run bench -- [--quick] [--results-dir DIR]

  --quick         small files (5 and 10 MB), 2 s runs at 1 and 16 connections; finishes
                  in about a minute and writes only the JSON record, not BENCHMARKS.md
  --results-dir   where the JSON records go (default bench-results/)

The full run takes about 4 minutes on 2 cores and rewrites BENCHMARKS.md. nginx and wrk are installed
with apt-get (packages nginx-light and wrk) when missing and this user is root; without
them their parts are skipped with a message.`);
  process.exit(0);
}

const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const plan: BenchPlan = benchPlan(values.quick!);
const startedAt = new Date().toISOString();
const loadAverageAtStart = os.loadavg()[0]!;
let releaseLock: () => Promise<void>;
try {
  releaseLock = await acquireRunLock(values["results-dir"]!);
} catch (error) {
  console.error(`benchmark not started: ${(error as Error).message}`);
  process.exit(1);
}
const workDir = await mkdtemp(path.join(os.tmpdir(), "k3s-mirror-bench-"));
// nginx worker processes run as the user nobody and read files under this directory.
await chmod(workDir, 0o755);

// Every part is bounded on its own; the deadline also bounds the sum.
const abort = async (reason: string) => {
  console.error(`benchmark stopped: ${reason}`);
  await runCleanups();
  await rm(workDir, { recursive: true, force: true });
  await releaseLock();
  process.exit(1);
};
setTimeout(() => void abort(`not finished within ${plan.deadlineMinutes} minutes`), plan.deadlineMinutes * 60_000).unref();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void abort(`received ${signal}`));

let exitCode = 0;
try {
  const nginx = ensureTool(NGINX, log);
  if (nginx.binary === null) log(`nginx baseline skipped: ${nginx.reason}`);
  const wrk = ensureTool(WRK, log);
  if (wrk.binary === null) log(`random Range requests skipped: ${wrk.reason}`);

  const sections: Section[] = [];
  sections.push(await benchChannels({ ...plan.channels, nginxBinary: nginx.binary, workDir, log }));
  const files = await benchFiles({ ...plan.downloads, ...plan.memory, nginxBinary: nginx.binary, wrkBinary: wrk.binary, workDir, log });
  sections.push(files.downloads, files.memory);
  sections.push(await benchSync({ ...plan.sync, log }));
  sections.push(await benchInstall({ ...plan.install, log }));

  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    quick: values.quick!,
    command: values.quick ? "npm run bench -- --quick" : "npm run bench",
    machine: describeMachine(PROJECT_ROOT, nginx.binary ? nginxVersion(nginx.binary) : null, loadAverageAtStart),
    sections,
  };
  const jsonFile = await writeJsonReport(report, values["results-dir"]!);
  log(`results written to ${path.relative(process.cwd(), jsonFile)}`);
  const markdown = renderMarkdown(report);
  if (values.quick) {
    console.log(`\n${markdown}`);
  } else {
    await writeFile(path.join(PROJECT_ROOT, "BENCHMARKS.md"), markdown);
    log("BENCHMARKS.md rewritten");
  }
} catch (error) {
  console.error(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await runCleanups();
  await rm(workDir, { recursive: true, force: true });
  await releaseLock();
}
process.exit(exitCode);
