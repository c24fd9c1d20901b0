import type { z } from "zod";
import type { Config } from "../config";
import { readAtMost } from "./bounded-read";
import type { SubrequestBudget } from "./budget";
import { GitHubReleaseList, UpstreamChannelCollection, type GitHubRelease } from "./upstream-schemas";

/** How long to wait for an upstream reply's headers. */
export const UPSTREAM_HEADERS_TIMEOUT_MS = 30_000;
/** Largest JSON page or installer script read from upstream. */
export const MAX_UPSTREAM_TEXT_BYTES = 8 * 1024 * 1024;
/** Idle time after which a reply body is abandoned, so that a stalled upstream cannot hold the sync lease. */
export const UPSTREAM_BODY_IDLE_TIMEOUT_MS = 30_000;
/** Guard against a Link header loop. */
const MAX_RELEASE_PAGES = 100;
const RELEASES_PER_PAGE = 100;
const USER_AGENT = "k3s-channel-mirror";

/**
 * A failed upstream call. `transient` faults (5xx, 429, timeouts, refused connections)
 * are retried on a later step. The others are bad replies, also retried later but
 * reported as upstream errors.
 */
export class UpstreamError extends Error {
  constructor(
    readonly url: string,
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

/** Thrown when the step's subrequest budget cannot cover a call. */
export class BudgetExhausted extends Error {
  override name = "BudgetExhausted";
}

/**
 * Fetches an upstream URL, following redirects, with a timeout on the headers. Network
 * failures and timeouts become transient UpstreamErrors.
 */
export async function fetchUpstream(url: string, init: RequestInit & { hops?: number }, budget: SubrequestBudget, signal?: AbortSignal): Promise<Response> {
  if (!budget.take(init.hops ?? 1)) throw new BudgetExhausted(`subrequest budget of ${budget.max} used up before ${url}`);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no reply within ${UPSTREAM_HEADERS_TIMEOUT_MS} ms`)), UPSTREAM_HEADERS_TIMEOUT_MS);
  // The caller's signal stays linked after the headers, so it can also end the body.
  signal?.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  try {
    const headers = new Headers(init.headers);
    headers.set("User-Agent", USER_AGENT);
    return await fetch(url, { ...init, headers, redirect: "follow", signal: controller.signal });
  } catch (error) {
    throw new UpstreamError(url, `request failed: ${describeError(error)}`, true);
  } finally {
    clearTimeout(timer);
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** Raises an UpstreamError for any status but the `accepted` ones; 5xx and 429 are transient. */
export function checkStatus(response: Response, url: string, accepted: readonly number[] = [200]): void {
  if (accepted.includes(response.status)) return;
  const transient = response.status >= 500 || response.status === 429 || response.status === 408;
  let detail = "";
  if (response.status === 403 && response.headers.get("x-ratelimit-remaining") === "0") {
    const reset = Number(response.headers.get("x-ratelimit-reset"));
    detail = `; the API rate limit is used up${Number.isFinite(reset) ? ` until ${new Date(reset * 1000).toISOString()}` : ""}, set GITHUB_TOKEN`;
  }
  void response.body?.cancel();
  throw new UpstreamError(url, `upstream returned HTTP ${response.status}${detail}`, transient || detail !== "");
}

/** Reads a reply's text up to `maxBytes`, rejecting larger ones without buffering them. */
export async function readBoundedText(response: Response, url: string, maxBytes: number = MAX_UPSTREAM_TEXT_BYTES, idleTimeoutMs: number = UPSTREAM_BODY_IDLE_TIMEOUT_MS): Promise<string> {
  return new TextDecoder().decode(await readBoundedBytes(response, url, maxBytes, idleTimeoutMs));
}

/**
 * Reads a reply's bytes up to `maxBytes`, rejecting larger ones without buffering them.
 * A body that sends nothing for `idleTimeoutMs` is a transient UpstreamError.
 */
export async function readBoundedBytes(response: Response, url: string, maxBytes: number, idleTimeoutMs: number = UPSTREAM_BODY_IDLE_TIMEOUT_MS): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    void response.body?.cancel();
    throw new UpstreamError(url, `reply of ${declared} bytes is larger than the ${maxBytes} bytes accepted`, false);
  }
  if (!response.body) return new Uint8Array(0);
  let bytes: Uint8Array | null;
  try {
    bytes = await readAtMost(response.body, maxBytes, (reader) => readWithin(reader, idleTimeoutMs, url));
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    throw new UpstreamError(url, `reading the reply failed: ${describeError(error)}`, true);
  }
  if (bytes === null) throw new UpstreamError(url, `reply is larger than the ${maxBytes} bytes accepted`, false);
  return bytes;
}

function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, timeoutMs: number, url: string): Promise<ReadableStreamReadResult<Uint8Array>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new UpstreamError(url, `reading the reply timed out: no data for ${timeoutMs} ms`, true)), timeoutMs);
    reader.read().then(
      (result) => {
        clearTimeout(timer);
        resolve(result);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Parses a JSON reply with a zod schema; anything else is an UpstreamError naming the first problem. */
export function parseUpstreamJson<T extends z.ZodType>(text: string, schema: T, url: string): z.infer<T> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new UpstreamError(url, `reply is not JSON: ${JSON.stringify(text.slice(0, 80))}`, false);
  }
  const parsed = schema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UpstreamError(url, `reply does not have the expected shape: at ${issue.path.join(".") || "(document)"}: ${issue.message}`, false);
  }
  return parsed.data;
}

/** Fetches the upstream channel server's collection. */
export async function fetchUpstreamChannels(config: Config, budget: SubrequestBudget): Promise<UpstreamChannelCollection> {
  const url = config.upstream.channelsUrl;
  const response = await fetchUpstream(url, { headers: { Accept: "application/json" } }, budget);
  checkStatus(response, url);
  return parseUpstreamJson(await readBoundedText(response, url), UpstreamChannelCollection, url);
}

export type ReleasePages = { status: "unchanged" } | { status: "changed"; releases: GitHubRelease[]; etag: string | null; pages: number };

/**
 * Fetches every page of the releases API, following `Link: rel="next"`. The first page is
 * asked with `If-None-Match: <previousEtag>`, and a 304 means nothing changed; GitHub
 * does not count such replies against the rate limit. All pages must parse, or nothing
 * is returned.
 */
export async function fetchReleasePages(config: Config, previousEtag: string | null, budget: SubrequestBudget): Promise<ReleasePages> {
  const headers: Record<string, string> = { Accept: "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28" };
  if (config.githubToken) headers.Authorization = `Bearer ${config.githubToken}`;

  const first = new URL(config.upstream.releasesApi);
  if (!first.searchParams.has("per_page")) first.searchParams.set("per_page", String(RELEASES_PER_PAGE));
  const releases: GitHubRelease[] = [];
  let etag: string | null = null;
  let next: string | null = first.toString();
  let pages = 0;
  const read = new Set<string>();

  while (next) {
    if (pages >= MAX_RELEASE_PAGES) throw new UpstreamError(next, `more than ${MAX_RELEASE_PAGES} pages of releases; the Link header may loop`, false);
    if (read.has(next)) throw new UpstreamError(next, `the Link header of page ${pages} points to a page already read, so the pagination loops`, false);
    const url: string = next;
    read.add(url);
    const conditional = pages === 0 && previousEtag ? { ...headers, "If-None-Match": previousEtag } : headers;
    const response = await fetchUpstream(url, { headers: conditional }, budget);
    if (pages === 0 && response.status === 304) return { status: "unchanged" };
    checkStatus(response, url);
    if (pages === 0) etag = response.headers.get("etag");
    releases.push(...parseUpstreamJson(await readBoundedText(response, url), GitHubReleaseList, url));
    pages += 1;
    next = nextPageUrl(response.headers.get("link"), url);
  }
  return { status: "changed", releases, etag, pages };
}

/**
 * Returns the `rel="next"` target of a Link header (RFC 8288), or null. A target on
 * another origin than the page is ignored, so a reply cannot send the sync elsewhere.
 */
export function nextPageUrl(link: string | null, current: string): string | null {
  if (!link) return null;
  for (const part of link.split(",")) {
    const match = /^\s*<([^>]+)>\s*;(.*)$/.exec(part);
    if (!match || !/\brel="?next"?/i.test(match[2]!)) continue;
    try {
      const target = new URL(match[1]!, current);
      return target.origin === new URL(current).origin ? target.toString() : null;
    } catch {
      return null;
    }
  }
  return null;
}
