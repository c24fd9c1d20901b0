/**
 * Release file benchmarks: download throughput from the mirror against nginx serving the
 * same file from disk, and the workerd process's peak memory while the mirror syncs and
 * serves files of two sizes.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { startFakeUpstream } from "../../test/support/fake-upstream";
import { downloadInParallel, downloadInRanges, type DownloadResult } from "./download";
import { measureLoad, type LoadResult } from "./load";
import { startMemorySampler, type MemoryPeak } from "./memory";
import { startBenchMirror, type BenchMirror } from "./mirror";
import { startNginx, type NginxServer } from "./nginx";
import type { Section } from "./report";
import { run } from "../../test/support/run";
import { MissingFeatureError, SYNC_TIMEOUT_MS, syncUntilDone } from "./sync";
import { loadFigures } from "./channels";

const VERSION = "v1.33.6+k3s1";
const FILE = "k3s";
const DOWNLOAD_PATH = `/k3s-io/k3s/releases/download/${VERSION}/${FILE}`;
const MB_BYTES = 1_000_000;

export type FileBenchOptions = {
  /** File sizes for the memory comparison; downloads are compared at `downloadBytes`. */
  fileSizesBytes: number[];
  downloadBytes: number;
  parallelClients: number[];
  rangeSegments: number;
  rangeRequestBytes: number;
  rangeDurationSeconds: number;
  nginxBinary: string | null;
  workDir: string;
  log: (line: string) => void;
};

type Workload = {
  downloads: { clients: number; result: DownloadResult }[];
  ranges: DownloadResult;
  rangeRequests: LoadResult;
};

type SizeRun = { fileBytes: number; syncSteps: number; syncSeconds: number; idle: MemoryPeak; syncing: MemoryPeak; serving: MemoryPeak; mirror: Workload; nginx: Workload | null };

/** Runs the download and memory benchmarks and returns their two report sections. */
export async function benchFiles(options: FileBenchOptions): Promise<{ downloads: Section; memory: Section }> {
  const sizes = [...new Set([...options.fileSizesBytes, options.downloadBytes])].sort((a, b) => a - b);
  const megabytes = (bytes: number) => `${Math.round(bytes / MB_BYTES)} MB`;
  const downloads: Section = {
    id: "downloads",
    title: "Release file downloads",
    method:
      `curl to /dev/null fetching one ${megabytes(options.downloadBytes)} release file (GET ${DOWNLOAD_PATH}): whole-file downloads by ${options.parallelClients.join(" and ")} parallel clients, ` +
      `the file as ${options.rangeSegments} byte ranges fetched in parallel, and autocannon sending ${options.rangeRequestBytes / 1024 / 1024} MiB Range requests at random offsets ` +
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
      `Resident memory of the mirror's workerd process, read from /proc/<pid>/status every 50 ms (peak VmRSS) and as VmHWM after resetting it at the start of each phase, ` +
      `while the mirror syncs one release file and then serves it with the download workload above, at ${sizes.map(megabytes).join(" and ")}. ` +
      "Each size runs on a fresh mirror. A ratio near 1 means memory does not grow with the file size.",
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
  for (const [index, download] of compared.mirror.downloads.entries()) {
    const baseline = compared.nginx?.downloads[index]?.result ?? null;
    const clients = download.clients;
    downloads.figures.push({ label: `whole file, ${clients} client${clients === 1 ? "" : "s"}: throughput`, unit: "MB/s", better: "higher", mirror: download.result.megabytesPerSecond, baseline: baseline?.megabytesPerSecond ?? null });
  }
  downloads.figures.push({ label: `${options.rangeSegments} Range requests covering the file, in parallel: throughput`, unit: "MB/s", better: "higher", mirror: compared.mirror.ranges.megabytesPerSecond, baseline: compared.nginx?.ranges.megabytesPerSecond ?? null });
  downloads.figures.push(...loadFigures(`random ${options.rangeRequestBytes / 1024 / 1024} MiB Range requests, ${options.rangeSegments} connections`, compared.mirror.rangeRequests, compared.nginx?.rangeRequests ?? null));
  if (!compared.nginx) downloads.notes.push("nginx is not available, so only the mirror was measured.");
  downloads.raw = { mirror: compared.mirror, nginx: compared.nginx };

  // Memory: the largest size against the smallest.
  const largest = runs[runs.length - 1]!;
  const smallest = runs[0]!;
  const mib = (bytes: number | null) => (bytes === null ? null : bytes / 1024 / 1024);
  memory.figures.push(
    { label: "workerd at rest before the sync: RSS", unit: "MiB", better: "lower", mirror: mib(largest.idle.peakRssBytes), baseline: mib(smallest.idle.peakRssBytes) },
    { label: "workerd while syncing: peak RSS (sampled)", unit: "MiB", better: "lower", mirror: mib(largest.syncing.peakRssBytes), baseline: mib(smallest.syncing.peakRssBytes) },
    { label: "workerd while syncing: VmHWM", unit: "MiB", better: "lower", mirror: mib(largest.syncing.hwmBytes), baseline: mib(smallest.syncing.hwmBytes) },
    { label: "workerd while serving: peak RSS (sampled)", unit: "MiB", better: "lower", mirror: mib(largest.serving.peakRssBytes), baseline: mib(smallest.serving.peakRssBytes) },
    { label: "workerd while serving: VmHWM", unit: "MiB", better: "lower", mirror: mib(largest.serving.hwmBytes), baseline: mib(smallest.serving.hwmBytes) },
    { label: "sync of the one file: wall time", unit: "s", better: "lower", mirror: largest.syncSeconds, baseline: smallest.syncSeconds },
  );
  if (largest.syncing.hwmBytes === null) memory.notes.push("VmHWM could not be reset (writing /proc/<pid>/clear_refs was denied), so only sampled peaks are shown.");
  memory.raw = runs.map(({ fileBytes, syncSteps, syncSeconds, idle, syncing, serving }) => ({ fileBytes, syncSteps, syncSeconds, idle, syncing, serving }));
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
    const servingSampler = await startMemorySampler(mirror.workerdPids);
    const mirrorWorkload: Workload = { downloads: [], ranges: null!, rangeRequests: null! };
    const nginxWorkload: Workload | null = nginx ? { downloads: [], ranges: null!, rangeRequests: null! } : null;
    const nginxFileUrl = nginx ? `${nginx.url}${DOWNLOAD_PATH}` : null;
    let serving: MemoryPeak;
    try {
      for (const clients of options.parallelClients) {
        mirrorWorkload.downloads.push({ clients, result: await downloadInParallel(mirrorFileUrl, clients, fileBytes) });
        if (nginxFileUrl) nginxWorkload!.downloads.push({ clients, result: await downloadInParallel(nginxFileUrl, clients, fileBytes) });
      }
      mirrorWorkload.ranges = await downloadInRanges(mirrorFileUrl, options.rangeSegments, fileBytes);
      if (nginxFileUrl) nginxWorkload!.ranges = await downloadInRanges(nginxFileUrl, options.rangeSegments, fileBytes);

      const rangeRun = (url: string) => ({
        url,
        connections: options.rangeSegments,
        durationSeconds: options.rangeDurationSeconds,
        expectedStatus: 206,
        headersPerRequest: () => randomRange(fileBytes, options.rangeRequestBytes),
      });
      mirrorWorkload.rangeRequests = await measureLoad(rangeRun(mirrorFileUrl));
      if (nginxFileUrl) nginxWorkload!.rangeRequests = await measureLoad(rangeRun(nginxFileUrl));
    } finally {
      serving = await servingSampler.stop();
    }
    for (const [name, workload] of [["mirror", mirrorWorkload], ["nginx", nginxWorkload]] as const) {
      if (workload && (workload.rangeRequests.errors > 0 || workload.rangeRequests.unexpectedStatus > 0)) {
        throw new Error(`${name}: Range requests had ${workload.rangeRequests.errors} errors and ${workload.rangeRequests.unexpectedStatus} statuses other than 206`);
      }
    }
    log(`files ${label}: workerd peak RSS ${mib(syncing.peakRssBytes)} MiB syncing, ${mib(serving.peakRssBytes)} MiB serving`);
    return { fileBytes, syncSteps: sync.steps, syncSeconds: sync.wallSeconds, idle, syncing, serving, mirror: mirrorWorkload, nginx: nginxWorkload };
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
