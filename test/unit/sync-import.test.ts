import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { HttpError } from "../../src/errors";
import { importReleaseFile } from "../../src/sync/import";
import { resetMirror } from "../routes/helpers";

const VERSION = "v1.33.6+k3s1";
const CHUNK_BYTES = 1024;
const STREAM_BYTES = 1024 * 1024;
/** The checksum file limit of the import, written here rather than imported from the code under test. */
const CHECKSUM_LIMIT_BYTES = 64 * 1024;

/** Builds a stream of `totalBytes` in 1 KiB chunks that counts the bytes pulled and whether it was cancelled. */
function countingStream(totalBytes: number) {
  const seen = { pulledBytes: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (seen.pulledBytes >= totalBytes) {
          controller.close();
          return;
        }
        seen.pulledBytes += CHUNK_BYTES;
        controller.enqueue(new TextEncoder().encode("#".repeat(CHUNK_BYTES - 1) + "\n"));
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

beforeEach(async () => {
  await resetMirror();
});

describe("importReleaseFile", () => {
  it("rejects an oversized checksum file without reading it all", async () => {
    const { stream, seen } = countingStream(STREAM_BYTES);
    const logStatement = () => env.DB.prepare("SELECT 1");

    const imported = importReleaseFile(env.DB, env.FILES, loadConfig(env), { version: VERSION, file: "sha256sum-amd64.txt", body: stream, size: 100 }, new Date().toISOString(), logStatement);
    const error = await imported.then(
      () => null,
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(413);
    expect((error as HttpError).message).toContain(`at most ${CHECKSUM_LIMIT_BYTES}`);
    expect(seen.cancelled).toBe(true);
    expect(seen.pulledBytes).toBeLessThanOrEqual(CHECKSUM_LIMIT_BYTES + CHUNK_BYTES);
    const stored = await env.DB.prepare("SELECT COUNT(*) AS count FROM files").first<{ count: number }>();
    expect(stored?.count).toBe(0);
  });
});
