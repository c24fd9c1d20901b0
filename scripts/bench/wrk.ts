/**
 * Random Range requests with wrk. autocannon parses large bodies too slowly to measure
 * them (about 60 MB/s on the benchmark machine, against nginx), so ranges use wrk.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../test/support/run";
import type { LoadResult } from "./load";

const SCRIPT_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), "random-range.lua");
const RANGE_HEADER_ALLOWANCE_BYTES = 1024;

export type RangeRun = { wrkBinary: string; url: string; connections: number; durationSeconds: number; fileBytes: number; rangeBytes: number };

/**
 * Runs wrk for `durationSeconds` with `connections` connections, each request asking
 * for `rangeBytes` at a random aligned offset. Raises when the responses are not ranges
 * of the requested size, judged from the total bytes read.
 */
export async function measureRandomRanges(options: RangeRun): Promise<LoadResult> {
  const args = ["-t1", `-c${options.connections}`, `-d${options.durationSeconds}s`, "--timeout", "10s", "-s", SCRIPT_PATH, options.url];
  const env = { ...process.env, BENCH_FILE_BYTES: String(options.fileBytes), BENCH_RANGE_BYTES: String(options.rangeBytes) };
  const result = await run(options.wrkBinary, args, { env, timeoutMs: (options.durationSeconds + 30) * 1000 });
  const line = /^BENCH_JSON (.+)$/m.exec(result.stdout)?.[1];
  if (result.code !== 0 || !line) throw new Error(`wrk against ${options.url} failed with exit code ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);

  const summary = JSON.parse(line) as { requests: number; durationUs: number; bytes: number; socketErrors: number; statusErrors: number; p50Us: number; p99Us: number };
  // wrk counts the bytes of responses still in flight when it stops, up to one per connection.
  const minBytes = summary.requests * options.rangeBytes;
  const maxBytes = (summary.requests + options.connections) * (options.rangeBytes + RANGE_HEADER_ALLOWANCE_BYTES);
  if (summary.bytes < minBytes || summary.bytes > maxBytes) {
    throw new Error(`Range requests to ${options.url} read ${summary.bytes} bytes in ${summary.requests} responses, expected ${options.rangeBytes} bytes plus headers each`);
  }
  const durationSeconds = summary.durationUs / 1e6;
  return {
    connections: options.connections,
    requests: summary.requests,
    durationSeconds,
    requestsPerSecond: summary.requests / durationSeconds,
    p50Ms: summary.p50Us / 1000,
    p99Ms: summary.p99Us / 1000,
    errors: summary.socketErrors,
    unexpectedStatus: summary.statusErrors,
  };
}
