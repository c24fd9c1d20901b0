import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig, type Config } from "../../src/config";
import { SubrequestBudget } from "../../src/sync/budget";
import { fetchReleasePages, readBoundedText, UpstreamError } from "../../src/sync/upstream";

const RELEASES_API = "http://127.0.0.1:9/repos/k3s-io/k3s/releases";

/** Builds a reply whose body sends `first` and then stalls. */
function stalledReply(first: string): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(first));
    },
  });
  return new Response(body, { headers: { "Content-Type": "application/json" } });
}

function releasesConfig(): Config {
  return { ...loadConfig(env), upstream: { ...loadConfig(env).upstream, releasesApi: RELEASES_API } };
}

/** Stubs fetch to return every releases page empty, with a Link header from `nextOf`. */
function stubReleasePages(nextOf: (url: URL) => string) {
  return vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return new Response("[]", { headers: { "Content-Type": "application/json", Link: `<${nextOf(url)}>; rel="next"` } });
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("readBoundedText", () => {
  it("rejects a stalled body as transient", async () => {
    const failure = await readBoundedText(stalledReply("["), RELEASES_API, 1024, 20).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UpstreamError);
    expect((failure as UpstreamError).transient).toBe(true);
    expect((failure as UpstreamError).message).toContain("timed out: no data for 20 ms");
  });

  it("joins a body sent in chunks", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of ["[1,", "2,", "3]"]) controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    });
    expect(await readBoundedText(new Response(body), RELEASES_API, 1024, 20)).toBe("[1,2,3]");
  });

  it("rejects a chunked body over the limit as permanent", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let index = 0; index < 3; index += 1) controller.enqueue(new Uint8Array(600));
        controller.close();
      },
    });
    const failure = await readBoundedText(new Response(body), RELEASES_API, 1024, 20).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UpstreamError);
    expect((failure as UpstreamError).transient).toBe(false);
    expect((failure as UpstreamError).message).toContain("larger than the 1024 bytes accepted");
  });
});

describe("fetchReleasePages", () => {
  it("stops at a page linking itself", async () => {
    const fetched = stubReleasePages((url) => url.toString());
    const failure = await fetchReleasePages(releasesConfig(), null, new SubrequestBudget(200)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UpstreamError);
    expect((failure as UpstreamError).message).toContain("already read");
    expect(fetched).toHaveBeenCalledTimes(1);
  });

  it("stops at two pages linking each other", async () => {
    const fetched = stubReleasePages((url) => `${RELEASES_API}?per_page=100&page=${url.searchParams.get("page") === "2" ? "1" : "2"}`);
    const failure = await fetchReleasePages(releasesConfig(), null, new SubrequestBudget(200)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UpstreamError);
    expect((failure as UpstreamError).message).toContain("already read");
    expect(fetched).toHaveBeenCalledTimes(3);
  });
});
