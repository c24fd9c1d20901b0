/**
 * Request-rate runs with autocannon's programmatic API. Every run stops by itself after
 * its duration or its request cap, whichever comes first.
 */
import autocannon from "autocannon";
import type { Figure } from "./report";

/** The request cap of one run, so that a run also stops on a very fast server. */
const MAX_REQUESTS_PER_RUN = 2_000_000;
const REQUEST_TIMEOUT_SECONDS = 10;

export type LoadRun = {
  url: string;
  connections: number;
  durationSeconds: number;
  expectedStatus: number;
  headers?: Record<string, string>;
};

export type LoadResult = {
  connections: number;
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  unexpectedStatus: number;
};

/**
 * Runs autocannon against one URL and returns the rate and latency percentiles.
 * Latencies come from each response event, in fractional milliseconds, because
 * autocannon's own histogram rounds to whole milliseconds, too coarse on loopback.
 */
export async function measureLoad(run: LoadRun): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let unexpectedStatus = 0;
  const instance = autocannon({
    url: run.url,
    connections: run.connections,
    duration: run.durationSeconds,
    maxOverallRequests: MAX_REQUESTS_PER_RUN,
    timeout: REQUEST_TIMEOUT_SECONDS,
    headers: run.headers,
  });
  instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
    latenciesMs.push(responseTimeMs);
    if (statusCode !== run.expectedStatus) unexpectedStatus += 1;
  });
  const result = await instance;

  latenciesMs.sort((a, b) => a - b);
  return {
    connections: run.connections,
    requests: latenciesMs.length,
    durationSeconds: result.duration,
    requestsPerSecond: latenciesMs.length / result.duration,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
    errors: result.errors,
    unexpectedStatus,
  };
}

/** Nearest-rank percentile of sorted values; NaN for none. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)));
  return sorted[rank - 1]!;
}

/** Lists requests per second and p50/p99 latency of one pair of runs. */
export function loadFigures(label: string, mirror: LoadResult, baseline: LoadResult | null): Figure[] {
  return [
    { label: `${label}: requests/s`, unit: "req/s", better: "higher", mirror: mirror.requestsPerSecond, baseline: baseline?.requestsPerSecond ?? null },
    { label: `${label}: p50 latency`, unit: "ms", better: "lower", mirror: mirror.p50Ms, baseline: baseline?.p50Ms ?? null },
    { label: `${label}: p99 latency`, unit: "ms", better: "lower", mirror: mirror.p99Ms, baseline: baseline?.p99Ms ?? null },
  ];
}
