import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { streamIntoR2, toHex, TransferError } from "../../src/sync/transfer";

const MIB = 1024 * 1024;

/** A stream of `size` deterministic bytes in chunks of `chunkBytes`, built while read. */
function generated(size: number, chunkBytes = 64 * 1024, stopAfter = size): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= stopAfter) {
        controller.close();
        return;
      }
      const length = Math.min(chunkBytes, stopAfter - sent);
      const chunk = new Uint8Array(length);
      for (let index = 0; index < length; index += 1) chunk[index] = (sent + index) % 251;
      sent += length;
      controller.enqueue(chunk);
    },
  });
}

/**
 * SHA-256 of `generated(size)`'s bytes, computed outside the mirror with
 * `python3 -c 'import hashlib; print(hashlib.sha256(bytes(i % 251 for i in range(SIZE))).hexdigest())'`.
 */
const EXPECTED_SHA256: Record<number, string> = {
  300_000: "3c65ea93424a9c362fec0e3a69ea36031e8a358441479dd665cc6110eabe7b08",
  [12 * MIB + 12_345]: "f64fa8e7bcc47dc7378521e76dd2e3387fa9700e61aee37c53e1595fee38af33",
};

describe("streamIntoR2", () => {
  it("stores a body with one put and returns its hash", async () => {
    const size = 300_000;
    const hash = await streamIntoR2(env.FILES, "test/single", generated(size, 7_000), size);
    expect(hash).toBe(EXPECTED_SHA256[size]);
    const stored = await env.FILES.get("test/single");
    expect(stored?.size).toBe(size);
    expect(toHex(await crypto.subtle.digest("SHA-256", await stored!.arrayBuffer()))).toBe(EXPECTED_SHA256[size]);
  });

  it("uploads in equal multipart parts above the threshold", async () => {
    const size = 12 * MIB + 12_345;
    const hash = await streamIntoR2(env.FILES, "test/multipart", generated(size, 100_000), size, { multipartThresholdBytes: 8 * MIB, partBytes: 5 * MIB });
    expect(hash).toBe(EXPECTED_SHA256[size]);
    const stored = await env.FILES.get("test/multipart");
    expect(stored?.size).toBe(size);
    expect(toHex(await crypto.subtle.digest("SHA-256", await stored!.arrayBuffer()))).toBe(hash);
  });

  it("rejects a body shorter than announced and stores nothing", async () => {
    const error = await streamIntoR2(env.FILES, "test/short", generated(1000, 100, 600), 1000).catch((caught) => caught);
    expect(error).toBeInstanceOf(TransferError);
    expect(error.reason).toBe("size");
    expect(await env.FILES.head("test/short")).toBeNull();
  });

  it("rejects a short multipart body and aborts the upload", async () => {
    const size = 11 * MIB;
    const error = await streamIntoR2(env.FILES, "test/short-multipart", generated(size, 100_000, 7 * MIB), size, { multipartThresholdBytes: 8 * MIB, partBytes: 5 * MIB }).catch((caught) => caught);
    expect(error).toBeInstanceOf(TransferError);
    expect(await env.FILES.head("test/short-multipart")).toBeNull();
  });

  it("rejects a body longer than announced", async () => {
    const error = await streamIntoR2(env.FILES, "test/long", generated(2000, 500), 1000).catch((caught) => caught);
    expect(error).toBeInstanceOf(TransferError);
    expect(error.reason).toBe("size");
  });

  it("rejects an HTML page", async () => {
    const page = new TextEncoder().encode("<!DOCTYPE html><html><body>error</body></html>");
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(page);
        controller.close();
      },
    });
    const error = await streamIntoR2(env.FILES, "test/html", body, page.byteLength).catch((caught) => caught);
    expect(error).toBeInstanceOf(TransferError);
    expect(error.reason).toBe("html");
  });
});
