import { looksLikeHtml } from "./checksums";

/**
 * Files larger than this go to R2 as a multipart upload; smaller ones as one put, whose
 * maximum is 5 GiB. Every K3s release file (airgap tarballs included) stays below it.
 * NOTE: Miniflare's local R2 buffers multipart objects while serving them: a 300 MB one
 * grew workerd's memory to about 2 GiB with 8 clients, where a single-put object stayed
 * flat. How Cloudflare's R2 behaves was not measured.
 */
export const MULTIPART_THRESHOLD_BYTES = 4 * 1024 * 1024 * 1024;
/** Size of every multipart part but the last; R2 needs at least 5 MiB and equal parts. */
export const MULTIPART_PART_BYTES = 64 * 1024 * 1024;
const MIN_PART_BYTES = 5 * 1024 * 1024;

/** Why a transfer was rejected: the body was HTML, or shorter or longer than announced. */
export class TransferError extends Error {
  constructor(
    readonly reason: "html" | "size",
    message: string,
  ) {
    super(message);
    this.name = "TransferError";
  }
}

export type TransferOptions = {
  contentType?: string;
  multipartThresholdBytes?: number;
  partBytes?: number;
  /** Called with every chunk's size, for idle timeouts and progress. */
  onChunk?: (bytes: number) => void;
};

/**
 * Streams `body` into R2 under `key` while computing its SHA-256, and returns the hex
 * digest. `size` must be the exact length: R2 needs it up front, and a body that ends
 * early or runs long is rejected. Nothing is buffered beyond one chunk.
 *
 * The hash runs in a TransformStream in front of the upload instead of on a `tee()`
 * branch. A tee buffers whatever the faster branch has read and the slower one has not,
 * and with a fast hash and a slow upload that grows toward the whole file.
 * Bodies over the multipart threshold are cut into equal parts, each streamed with a
 * known length. On any failure the partial object or multipart upload is removed.
 */
export async function streamIntoR2(bucket: R2Bucket, key: string, body: ReadableStream<Uint8Array>, size: number, options: TransferOptions = {}): Promise<string> {
  const threshold = options.multipartThresholdBytes ?? MULTIPART_THRESHOLD_BYTES;
  const partBytes = options.partBytes ?? MULTIPART_PART_BYTES;
  if (partBytes < MIN_PART_BYTES) throw new Error(`multipart parts must be at least ${MIN_PART_BYTES} bytes, got ${partBytes}`);

  const digest = new crypto.DigestStream("SHA-256");
  const digestWriter = digest.getWriter();
  let rejection: TransferError | null = null;
  let seen = 0;
  const inspect = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      if (seen === 0 && chunk.byteLength > 0 && looksLikeHtml(chunk)) {
        rejection = new TransferError("html", "upstream sent an HTML page instead of the file");
        throw rejection;
      }
      seen += chunk.byteLength;
      if (seen > size) {
        rejection = new TransferError("size", `upstream sent more than the ${size} bytes announced`);
        throw rejection;
      }
      options.onChunk?.(chunk.byteLength);
      await digestWriter.write(chunk);
      controller.enqueue(chunk);
    },
    async flush() {
      if (seen !== size) {
        rejection = new TransferError("size", `upstream sent ${seen} of ${size} bytes`);
        throw rejection;
      }
      await digestWriter.close();
    },
  });
  const hashed = body.pipeThrough(inspect);
  const httpMetadata = { contentType: options.contentType ?? "application/octet-stream" };

  try {
    if (size <= threshold) {
      await bucket.put(key, hashed.pipeThrough(new FixedLengthStream(size)), { httpMetadata });
    } else {
      await multipartUpload(bucket, key, hashed, size, partBytes, httpMetadata);
    }
  } catch (error) {
    await bucket.delete(key).catch(() => undefined);
    throw rejection ?? error;
  }
  if (rejection) throw rejection;
  return toHex(await digest.digest);
}

async function multipartUpload(bucket: R2Bucket, key: string, body: ReadableStream<Uint8Array>, size: number, partBytes: number, httpMetadata: R2HTTPMetadata): Promise<void> {
  const upload = await bucket.createMultipartUpload(key, { httpMetadata });
  const reader = body.getReader();
  let carry: Uint8Array | null = null;

  try {
    const parts: R2UploadedPart[] = [];
    let remaining = size;
    for (let partNumber = 1; remaining > 0; partNumber += 1) {
      const partLength = Math.min(partBytes, remaining);
      let emitted = 0;
      const part = new ReadableStream<Uint8Array>({
        async pull(controller) {
          let chunk = carry;
          carry = null;
          if (!chunk) {
            const next = await reader.read();
            if (next.done) {
              controller.error(new TransferError("size", `upstream sent ${size - remaining + emitted} of ${size} bytes`));
              return;
            }
            chunk = next.value;
          }
          const room = partLength - emitted;
          if (chunk.byteLength > room) {
            carry = chunk.subarray(room);
            chunk = chunk.subarray(0, room);
          }
          emitted += chunk.byteLength;
          controller.enqueue(chunk);
          if (emitted === partLength) controller.close();
        },
      });
      parts.push(await upload.uploadPart(partNumber, part.pipeThrough(new FixedLengthStream(partLength))));
      remaining -= partLength;
    }

    // Reading to the end runs the hash's flush, which checks the total length.
    const tail = carry ?? (await reader.read()).value;
    if (tail && tail.byteLength > 0) throw new TransferError("size", `upstream sent more than the ${size} bytes announced`);
    await upload.complete(parts);
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    await upload.abort().catch(() => undefined);
    throw error;
  }
}

export function toHex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 of a small in-memory value, as hex. */
export async function sha256Hex(data: ArrayBuffer | Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return toHex(await crypto.subtle.digest("SHA-256", bytes));
}
