/**
 * Release file benchmarks: download throughput from the mirror against nginx serving the
 * same file from disk, and the workerd process's peak memory while the mirror syncs and
 * serves files of two sizes.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { MULTIPART_THRESHOLD_BYTES } from "../../src/sync/transfer";
import { startFakeUpstream } from "../../test/support/fake-upstream";
import { downloadInParallel, downloadInRanges, type DownloadResult } from "./download";
import { loadFigures, type LoadResult } from "./load";
import { startMemorySampler, type MemoryPeak } from "./memory";
import { startBenchMirror, type BenchMirror } from "./mirror";
import { startNginx, type NginxServer } from "./nginx";
import type { Section } from "./report";
import { run } from "../../test/support/run";
import { MissingFeatureError, SYNC_TIMEOUT_MS, syncUntilDone } from "./sync";
import { measureRandomRanges } from "./wrk";

const VERSION = "v1.33.6+k3s1";
const FILE = "k3s";
const DOWNLOAD_PATH = `/k3s-io/k3s/releases/download/${VERSION}/${FILE}`;
const MB_BYTES = 1_000_000;
/** A node on a slow link, reading slower than the mirror reads its storage. */
const SLOW_CLIENT_MEGABYTES_PER_SECOND = 30;
/** Serving memory growth, largest file over smallest, above which the report calls it out. */
const MEMORY_GROWTH_NOTE_RATIO = 1.5;

export type FileBenchOptions = {
  /** File sizes for the memory comparison; downloads are compared at `downloadBytes`. */
  fileSizesBytes: number[];
  downloadBytes: number;
  parallelClients: number[];
  rangeSegments: number;
  rangeRequestBytes: number;
  rangeDurationSeconds: number;
  nginxBinary: string | null;
  /** wrk, for the random Range requests; they are skipped without it. */
  wrkBinary: string | null;
  workDir: string;
  log: (line: string) => void;
};

/** One step of the serving workload, run against the mirror and then against nginx. */
type ServingStep = {
  label: string;
  /** `slow-download` steps measure the mirror's memory only, so nginx skips them. */
  kind: "download" | "slow-download" | "load";
  mirror: DownloadResult | LoadResult;
  nginx: DownloadResult | LoadResult | null;
  /** The workerd process's memory during the mirror's run of this step. */
  mirrorMemory: MemoryPeak;
};

type SizeRun = { fileBytes: number; syncSteps: number; syncSeconds: number; idle: MemoryPeak; syncing: MemoryPeak; serving: ServingStep[] };

/** Runs the download and memory benchmarks and returns their two report sections. */
export async function benchFiles(options: FileBenchOptions): Promise<{ downloads: Section; memory: Section }> {
  const sizes = [...new Set([...options.fileSizesBytes, options.downloadBytes])].sort((a, b) => a - b);
  const megabytes = (bytes: number) => `${Math.round(bytes / MB_BYTES)} MB`;
  const downloads: Section = {
    id: "downloads",
    title: "Release file downloads",
    method:
      `curl to /dev/null fetching one ${megabytes(options.downloadBytes)} release file (GET ${DOWNLOAD_PATH}): whole-file downloads by ${options.parallelClients.join(" and ")} parallel clients, ` +
      `the file as ${options.rangeSegments} byte ranges fetched in parallel, and wrk sending ${options.rangeRequestBytes / 1024 / 1024} MiB Range requests at random offsets ` +
      `for ${options.rangeDurationSeconds} s at ${options.rangeSegments} connections. The mirror serves the file from its R2 storage after a sync from the fake upstream; nginx serves the same bytes from disk with sendfile.`,
    columns: ["mirror", "nginx"],
    figures: [],
    notes: [],
    skipped: null,
    raw: {},
  };
  const memory: Section = {
    id: "memory",
    title: "workerd memory while syncing and serving",
    method:
      `Resident memory of the mirror's workerd process, read from /proc/<pid>/status every 50 ms (peak VmRSS, and peak RssAnon, the part that is not file pages) and as VmHWM after resetting it at the start of each phase, ` +
      `while the mirror syncs one release file and then serves it with the download workload above, at ${sizes.map(megabytes).join(" and ")}. ` +
      `The workload adds one client limited to ${SLOW_CLIENT_MEGABYTES_PER_SECOND} MB/s (curl --limit-rate), which shows whether the mirror buffers what a slow client has not read yet. ` +
      "Each size runs on a fresh mirror. A ratio near 1 means memory does not grow with the file size. " +
      "Memory freed after a step may stay resident, so a step's peak can carry over from the step before.",
    columns: [megabytes(sizes[sizes.length - 1]!), megabytes(sizes[0]!)],
    figures: [],
    notes: [],
    skipped: null,
    raw: {},
  };

  const runs: SizeRun[] = [];
  try {
    for (const fileBytes of sizes) runs.push(await benchOneSize(fileBytes, fileBytes === options.downloadBytes, options));
  } catch (error) {
    if (!(error instanceof MissingFeatureError)) throw error;
    options.log(`files: skipped: ${error.message}`);
    downloads.skipped = memory.skipped = `${error.message}; the file benchmarks need the sync step and the download route.`;
    return { downloads, memory };
  }

  // Downloads: mirror against nginx at the download size.
  const compared = runs.find((candidate) => candidate.fileBytes === options.downloadBytes)!;
  for (const step of compared.serving) {
    if (step.kind === "slow-download") continue;
    if (step.kind === "download") {
      const mirror = step.mirror as DownloadResult;
      const baseline = step.nginx as DownloadResult | null;
      downloads.figures.push({ label: `${step.label}: throughput`, unit: "MB/s", better: "higher", mirror: mirror.megabytesPerSecond, baseline: baseline?.megabytesPerSecond ?? null });
    } else {
      downloads.figures.push(...loadFigures(step.label, step.mirror as LoadResult, step.nginx as LoadResult | null));
    }
  }
  if (!compared.serving.some((step) => step.nginx)) downloads.notes.push("nginx is not available, so only the mirror was measured.");
  if (!options.wrkBinary) downloads.notes.push("wrk is not available, so the random Range requests were not measured.");
  downloads.raw = compared.serving.map(({ label, mirror, nginx }) => ({ label, mirror, nginx }));

  // Memory: the largest size against the smallest, per phase and per serving step.
  const largest = runs[runs.length - 1]!;
  const smallest = runs[0]!;
  const mib = (bytes: number | null) => (bytes === null ? null : bytes / 1024 / 1024);
  const peakOf = (run: SizeRun) => Math.max(...run.serving.map((step) => step.mirrorMemory.peakRssBytes));
  const anonOf = (run: SizeRun) => Math.max(...run.serving.map((step) => step.mirrorMemory.peakAnonBytes));
  const hwmOf = (run: SizeRun) => (run.serving.every((step) => step.mirrorMemory.hwmBytes !== null) ? Math.max(...run.serving.map((step) => step.mirrorMemory.hwmBytes!)) : null);
  memory.figures.push(
    { label: "at rest before the sync: RSS", unit: "MiB", better: "lower", mirror: mib(largest.idle.peakRssBytes), baseline: mib(smallest.idle.peakRssBytes) },
    { label: "while syncing: peak RSS (sampled)", unit: "MiB", better: "lower", mirror: mib(largest.syncing.peakRssBytes), baseline: mib(smallest.syncing.peakRssBytes) },
    { label: "while syncing: VmHWM", unit: "MiB", better: "lower", mirror: mib(largest.syncing.hwmBytes), baseline: mib(smallest.syncing.hwmBytes) },
    { label: "while serving: peak RSS (sampled)", unit: "MiB", better: "lower", mirror: mib(peakOf(largest)), baseline: mib(peakOf(smallest)) },
    { label: "while serving: VmHWM", unit: "MiB", better: "lower", mirror: mib(hwmOf(largest)), baseline: mib(hwmOf(smallest)) },
    { label: "while serving: peak RssAnon (sampled)", unit: "MiB", better: "lower", mirror: mib(anonOf(largest)), baseline: mib(anonOf(smallest)) },
  );
  for (const [index, step] of largest.serving.entries()) {
    const small = smallest.serving[index]!;
    memory.figures.push({ label: `while serving ${step.label}: peak RSS (sampled)`, unit: "MiB", better: "lower", mirror: mib(step.mirrorMemory.peakRssBytes), baseline: mib(small.mirrorMemory.peakRssBytes) });
  }
  memory.figures.push({ label: "sync of the one file: wall time", unit: "s", better: "lower", mirror: largest.syncSeconds, baseline: smallest.syncSeconds });
  const servingGrowth = peakOf(largest) / peakOf(smallest);
  if (servingGrowth > MEMORY_GROWTH_NOTE_RATIO) {
    memory.notes.push(
      `workerd's peak memory while serving grew with the file size in this run: ${mib(peakOf(largest))!.toFixed(0)} MiB at ${megabytes(largest.fileBytes)} against ${mib(peakOf(smallest))!.toFixed(0)} MiB at ${megabytes(smallest.fileBytes)}. ` +
        "The per-step rows show which downloads raised it.",
    );
  }
  const storage = (bytes: number) => (bytes > MULTIPART_THRESHOLD_BYTES ? "a multipart upload" : "a single put");
  memory.notes.push(
    `The sync stores files above ${MULTIPART_THRESHOLD_BYTES / 1024 / 1024} MiB in R2 as multipart uploads: the ${megabytes(largest.fileBytes)} file as ${storage(largest.fileBytes)}, ` +
      `the ${megabytes(smallest.fileBytes)} file as ${storage(smallest.fileBytes)}. Locally, R2 is Miniflare's simulator on disk, not Cloudflare's R2.`,
  );
  if (largest.syncing.hwmBytes === null) memory.notes.push("VmHWM could not be reset (writing /proc/<pid>/clear_refs was denied), so only sampled peaks are shown.");
  memory.raw = runs.map(({ fileBytes, syncSteps, syncSeconds, idle, syncing, serving }) => ({
    fileBytes,
    syncSteps,
    syncSeconds,
    idle,
    syncing,
    serving: serving.map(({ label, mirrorMemory }) => ({ label, mirrorMemory })),
  }));
  return { downloads, memory };
}

/** Syncs one file of `fileBytes` into a fresh mirror, then serves it, sampling memory. */
async function benchOneSize(fileBytes: number, compareWithNginx: boolean, options: FileBenchOptions): Promise<SizeRun> {
  const { log } = options;
  const label = `${Math.round(fileBytes / MB_BYTES)} MB`;
  const upstream = await startFakeUpstream({
    releases: [{ version: VERSION, arches: ["amd64"], fileSize: fileBytes }],
    channels: [{ name: "stable", latest: VERSION }],
    perPage: 30,
  });
  let mirror: BenchMirror | null = null;
  let nginx: NginxServer | null = null;
  try {
    log(`files ${label}: starting the mirror`);
    mirror = await startBenchMirror({ ...upstream.mirrorVars, MIRROR_ARCHES: "amd64" });
    if (mirror.workerdPids.length === 0) throw new Error("no workerd process found under the mirror's launcher");

    // 1. Sync, with memory sampled.
    const idleSampler = await startMemorySampler(mirror.workerdPids);
    const idle = await idleSampler.stop();
    log(`files ${label}: syncing`);
    const syncSampler = await startMemorySampler(mirror.workerdPids);
    let sync: Awaited<ReturnType<typeof syncUntilDone>>;
    let syncing: MemoryPeak;
    try {
      sync = await syncUntilDone(mirror, SYNC_TIMEOUT_MS);
    } finally {
      syncing = await syncSampler.stop();
    }

    const mirrorFileUrl = `${mirror.url}${DOWNLOAD_PATH}`;
    const probe = await fetch(mirrorFileUrl, { method: "HEAD" });
    if (probe.status === 404) throw new MissingFeatureError(`the mirror returned 404 for GET ${DOWNLOAD_PATH} after the sync`);
    if (probe.status !== 200) throw new Error(`the mirror returned ${probe.status} for HEAD ${DOWNLOAD_PATH} after the sync`);

    // 2. nginx serving the same bytes from disk, checked against the upstream's hash.
    if (compareWithNginx && options.nginxBinary) {
      const root = path.join(options.workDir, `nginx-files-${fileBytes}`);
      const file = path.join(root, "download", VERSION, FILE);
      await mkdir(path.dirname(file), { recursive: true });
      const fetched = await run("curl", ["-sfL", "-o", file, `${upstream.url}${DOWNLOAD_PATH}`], { timeoutMs: SYNC_TIMEOUT_MS });
      if (fetched.code !== 0) throw new Error(`curl of the upstream file failed: ${fetched.stderr}`);
      if ((await sha256File(file)) !== upstream.sha256Of(VERSION, FILE)) throw new Error("the file written for nginx does not match the upstream's SHA-256");
      nginx = await startNginx(options.nginxBinary, root, { responses: [], fileRoots: [{ urlPrefix: "/k3s-io/k3s/releases/download/", directory: path.join(root, "download") }] });
    }

    // 3. Serving workload, mirror then nginx for each step, with the mirror's memory sampled.
    log(`files ${label}: downloading`);
    const nginxFileUrl = nginx ? `${nginx.url}${DOWNLOAD_PATH}` : null;
    const serving: ServingStep[] = [];
    const runStep = async (stepLabel: string, kind: ServingStep["kind"], measure: (url: string) => Promise<DownloadResult | LoadResult>) => {
      const sampler = await startMemorySampler(mirror!.workerdPids);
      let mirrorResult: DownloadResult | LoadResult;
      let mirrorMemory: MemoryPeak;
      try {
        mirrorResult = await measure(mirrorFileUrl);
      } finally {
        mirrorMemory = await sampler.stop();
      }
      const nginxResult = nginxFileUrl && kind !== "slow-download" ? await measure(nginxFileUrl) : null;
      serving.push({ label: stepLabel, kind, mirror: mirrorResult, nginx: nginxResult, mirrorMemory });
    };

    for (const clients of options.parallelClients) {
      await runStep(`whole file, ${clients} client${clients === 1 ? "" : "s"}`, "download", (url) => downloadInParallel(url, clients, fileBytes));
    }
    await runStep(`whole file, 1 client reading at ${SLOW_CLIENT_MEGABYTES_PER_SECOND} MB/s`, "slow-download", (url) => downloadInParallel(url, 1, fileBytes, `${SLOW_CLIENT_MEGABYTES_PER_SECOND}M`));
    await runStep(`${options.rangeSegments} Range requests covering the file, in parallel`, "download", (url) => downloadInRanges(url, options.rangeSegments, fileBytes));
    if (options.wrkBinary) {
      const wrkBinary = options.wrkBinary;
      await runStep(`random ${options.rangeRequestBytes / 1024 / 1024} MiB Range requests, ${options.rangeSegments} connections`, "load", async (url) => {
        const result = await measureRandomRanges({ wrkBinary, url, connections: options.rangeSegments, durationSeconds: options.rangeDurationSeconds, fileBytes, rangeBytes: options.rangeRequestBytes });
        if (result.errors > 0 || result.unexpectedStatus > 0) {
          throw new Error(`Range requests to ${url} had ${result.errors} socket errors and ${result.unexpectedStatus} error statuses`);
        }
        return result;
      });
    }

    const servingPeak = Math.max(...serving.map((step) => step.mirrorMemory.peakRssBytes));
    log(`files ${label}: workerd peak RSS ${mib(syncing.peakRssBytes)} MiB syncing, ${mib(servingPeak)} MiB serving (${serving.map((step) => mib(step.mirrorMemory.peakRssBytes)).join(", ")})`);
    return { fileBytes, syncSteps: sync.steps, syncSeconds: sync.wallSeconds, idle, syncing, serving };
  } finally {
    await nginx?.stop();
    await mirror?.stop();
    await upstream.stop();
  }
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

/** Picks a `Range` header for `length` bytes at a random offset aligned to `length`. */
function randomRange(fileBytes: number, length: number): Record<string, string> {
  const slots = Math.max(1, Math.floor(fileBytes / length));
  const start = Math.floor(Math.random() * slots) * length;
  const end = Math.min(fileBytes, start + length) - 1;
  return { Range: `bytes=${start}-${end}` };
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
