/**
 * Download throughput with curl as the client, writing to /dev/null: whole files from
 * parallel clients, and one file split into byte ranges fetched in parallel, as download
 * managers and resumed downloads do.
 */
import { spawn } from "node:child_process";

const CURL_TIMEOUT_SECONDS = 300;

export type CurlResult = { status: number; bytes: number; seconds: number };

export type DownloadResult = {
  clients: number;
  totalBytes: number;
  wallSeconds: number;
  /** Total bytes over wall time, in MB/s (10^6 bytes). */
  megabytesPerSecond: number;
};

/** Runs one curl transfer to /dev/null and returns its status, size and time. */
export function curlToNull(url: string, options: { range?: { start: number; end: number }; limitRate?: string } = {}): Promise<CurlResult> {
  const args = ["-s", "-o", "/dev/null", "--max-time", String(CURL_TIMEOUT_SECONDS), "-w", "%{http_code} %{size_download} %{time_total}"];
  if (options.range) args.push("-r", `${options.range.start}-${options.range.end}`);
  if (options.limitRate) args.push("--limit-rate", options.limitRate);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn("curl", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      const [status, bytes, seconds] = stdout.trim().split(" ").map(Number);
      if (code !== 0 || status === undefined || bytes === undefined || seconds === undefined) {
        reject(new Error(`curl ${url} failed with exit code ${code}: ${stderr.trim() || stdout.trim()}`));
        return;
      }
      resolve({ status, bytes, seconds });
    });
  });
}

/**
 * Downloads the whole file with `clients` parallel curls and checks each status and size.
 * `limitRate` caps each client's speed, in curl's `--limit-rate` notation (`30M`).
 */
export async function downloadInParallel(url: string, clients: number, expectedBytes: number, limitRate?: string): Promise<DownloadResult> {
  const started = process.hrtime.bigint();
  const results = await Promise.all(Array.from({ length: clients }, () => curlToNull(url, { limitRate })));
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const result of results) {
    if (result.status !== 200 || result.bytes !== expectedBytes) {
      throw new Error(`GET ${url} returned ${result.status} with ${result.bytes} bytes, expected 200 with ${expectedBytes} bytes`);
    }
  }
  const totalBytes = clients * expectedBytes;
  return { clients, totalBytes, wallSeconds, megabytesPerSecond: totalBytes / 1e6 / wallSeconds };
}

/** Downloads the file as `segments` byte ranges in parallel and checks each 206 and size. */
export async function downloadInRanges(url: string, segments: number, fileBytes: number): Promise<DownloadResult> {
  const segmentBytes = Math.ceil(fileBytes / segments);
  const ranges = Array.from({ length: segments }, (_, index) => ({ start: index * segmentBytes, end: Math.min(fileBytes, (index + 1) * segmentBytes) - 1 }));
  const started = process.hrtime.bigint();
  const results = await Promise.all(ranges.map((range) => curlToNull(url, { range })));
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const [index, result] of results.entries()) {
    const range = ranges[index]!;
    const expected = range.end - range.start + 1;
    if (result.status !== 206 || result.bytes !== expected) {
      throw new Error(`GET ${url} with Range bytes=${range.start}-${range.end} returned ${result.status} with ${result.bytes} bytes, expected 206 with ${expected} bytes`);
    }
  }
  return { clients: segments, totalBytes: fileBytes, wallSeconds, megabytesPerSecond: fileBytes / 1e6 / wallSeconds };
}
