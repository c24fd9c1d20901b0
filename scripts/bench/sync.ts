/**
 * Driving the mirror's sync through its admin API, and the baseline for it: fetching the
 * same files from the upstream with `curl | sha256sum`.
 */
import { spawn } from "node:child_process";
import { startFakeUpstream, type FakeArch } from "../../test/support/fake-upstream";
import { startBenchMirror, type BenchMirror } from "./mirror";
import type { Section } from "./report";

const SYNC_STEP_PATH = "/api/v1/sync";
export const SYNC_TIMEOUT_MS = 5 * 60_000;

/** Raised when the mirror lacks a route that a benchmark section needs. */
export class MissingFeatureError extends Error {
  override name = "MissingFeatureError";
}

export type SyncRun = { steps: number; wallSeconds: number; lastStep: unknown };

/** Reads `done` from a sync step's JSON reply, at the top level or one level down. */
function isDone(reply: unknown): boolean | null {
  if (typeof reply !== "object" || reply === null) return null;
  const record = reply as Record<string, unknown>;
  if (typeof record.done === "boolean") return record.done;
  for (const value of Object.values(record)) {
    if (typeof value !== "object" || value === null) continue;
    const nested = (value as Record<string, unknown>).done;
    if (typeof nested === "boolean") return nested;
  }
  return null;
}

/**
 * Calls `POST /api/v1/sync` until a step reports `done: true`, and returns the steps and
 * the wall time. Raises MissingFeatureError when the mirror has no such route, and an
 * error when the sync is not done within `timeoutMs`.
 */
export async function syncUntilDone(mirror: BenchMirror, timeoutMs: number): Promise<SyncRun> {
  const started = process.hrtime.bigint();
  const deadline = Date.now() + timeoutMs;
  let steps = 0;
  let lastStep: unknown = null;
  while (Date.now() < deadline) {
    const response = await fetch(`${mirror.url}${SYNC_STEP_PATH}`, { method: "POST", headers: { Authorization: `Bearer ${mirror.adminToken}` } });
    const text = await response.text();
    if (response.status === 404 && text.includes("no route for")) throw new MissingFeatureError(`the mirror has no POST ${SYNC_STEP_PATH} route`);
    if (!response.ok) throw new Error(`POST ${SYNC_STEP_PATH} returned ${response.status}: ${text.slice(0, 500)}`);
    steps += 1;
    lastStep = JSON.parse(text);
    const done = isDone(lastStep);
    if (done === null) throw new Error(`POST ${SYNC_STEP_PATH} returned no "done" field: ${text.slice(0, 500)}`);
    if (done) return { steps, wallSeconds: Number(process.hrtime.bigint() - started) / 1e9, lastStep };
  }
  throw new Error(`the sync was not done after ${steps} steps in ${timeoutMs / 1000} s; last step: ${JSON.stringify(lastStep).slice(0, 500)}`);
}

/**
 * Fetches each URL in turn with `curl -sfL URL | sha256sum`, as a person checking files
 * by hand would, and returns the wall time. Raises when a hash differs from `sha256`,
 * which is also how a failed curl shows, because the pipe hides curl's exit code.
 */
export async function curlAndHashInTurn(files: { url: string; sha256: string }[]): Promise<{ wallSeconds: number }> {
  const started = process.hrtime.bigint();
  for (const file of files) {
    const digest = await new Promise<string>((resolve, reject) => {
      const child = spawn("sh", ["-c", 'curl -sfL "$1" | sha256sum', "sh", file.url], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.stderr.on("data", (chunk) => (stderr += chunk));
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve(stdout.split(" ")[0]!) : reject(new Error(`curl | sha256sum of ${file.url} failed with exit code ${code}: ${stderr.trim()}`))));
    });
    if (digest !== file.sha256) throw new Error(`curl | sha256sum of ${file.url} gave ${digest}, expected ${file.sha256}`);
  }
  return { wallSeconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

export type SyncBenchOptions = {
  releases: number;
  arches: FakeArch[];
  binaryBytes: number;
  log: (line: string) => void;
};

/**
 * Mirrors `releases` releases of `arches` from the fake upstream with the sync step, and
 * fetches the same files with `curl | sha256sum` as the baseline.
 */
export async function benchSync(options: SyncBenchOptions): Promise<Section> {
  const { log } = options;
  const versions = Array.from({ length: options.releases }, (_, index) => `v1.${30 + index}.${index + 2}+k3s1`).reverse();
  const section: Section = {
    id: "sync",
    title: "Sync from the upstream",
    method:
      `Wall time to mirror ${options.releases} releases of ${options.arches.length} architectures (${options.arches.join(", ")}) from the loopback fake upstream, ` +
      `binaries of ${options.binaryBytes / 1_000_000} MB, by calling POST ${SYNC_STEP_PATH} until it reports done, against fetching the same files in turn with \`curl -sfL URL | sha256sum\`. ` +
      "The mirror also reads the releases API and the channels, stores each file in R2 and checks its SHA-256.",
    columns: ["mirror sync", "curl | sha256sum"],
    figures: [],
    notes: [],
    skipped: null,
    raw: {},
  };

  const upstream = await startFakeUpstream({
    releases: versions.map((version) => ({ version, arches: options.arches, fileSize: options.binaryBytes })),
    channels: [{ name: "stable", latest: versions[0] }],
    perPage: 30,
  });
  let mirror: BenchMirror | null = null;
  try {
    // 1. The mirror's sync.
    log("sync: starting the mirror");
    mirror = await startBenchMirror({ ...upstream.mirrorVars, MIRROR_ARCHES: options.arches.join(","), MIRROR_OLDEST_MINOR: "v1.30" });
    log(`sync: syncing ${versions.length} releases`);
    let sync: SyncRun;
    try {
      sync = await syncUntilDone(mirror, SYNC_TIMEOUT_MS);
    } catch (error) {
      if (!(error instanceof MissingFeatureError)) throw error;
      log(`sync: skipped: ${error.message}`);
      section.skipped = `${error.message}.`;
      return section;
    }

    // 2. Every file is now on the mirror.
    const files = versions.flatMap((version) => upstream.filesOf(version).map((file) => ({ version, ...file })));
    for (const file of files) {
      const response = await fetch(`${mirror.url}/k3s-io/k3s/releases/download/${file.version}/${file.name}`, { method: "HEAD" });
      if (response.status !== 200) throw new Error(`after the sync, the mirror returned ${response.status} for ${file.version}/${file.name}`);
    }

    // 3. The baseline: the same files straight from the upstream.
    log("sync: curl | sha256sum of the same files");
    const baseline = await curlAndHashInTurn(
      files.map((file) => ({ url: `${upstream.url}/k3s-io/k3s/releases/download/${file.version}/${file.name}`, sha256: upstream.sha256Of(file.version, file.name) })),
    );

    const totalBytes = files.reduce((total, file) => total + file.size, 0);
    section.figures.push(
      { label: `${files.length} files, ${(totalBytes / 1_000_000).toFixed(0)} MB: wall time`, unit: "s", better: "lower", mirror: sync.wallSeconds, baseline: baseline.wallSeconds },
      { label: "throughput", unit: "MB/s", better: "higher", mirror: totalBytes / 1e6 / sync.wallSeconds, baseline: totalBytes / 1e6 / baseline.wallSeconds },
    );
    section.notes.push(`The mirror needed ${sync.steps} sync steps.`);
    section.raw = { files: files.length, totalBytes, mirror: sync, baseline };
    log(`sync: mirror ${sync.wallSeconds.toFixed(1)} s in ${sync.steps} steps, curl | sha256sum ${baseline.wallSeconds.toFixed(1)} s`);
    return section;
  } finally {
    await mirror?.stop();
    await upstream.stop();
  }
}
