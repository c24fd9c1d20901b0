/** A function that reads one chunk of a stream, for example `reader.read()` under a timeout. */
export type ChunkReader = (reader: ReadableStreamDefaultReader<Uint8Array>) => Promise<ReadableStreamReadResult<Uint8Array>>;

/**
 * Reads a stream into memory while counting its bytes. Returns null, after cancelling
 * the stream, as soon as it has sent more than `maxBytes`, so nothing past the limit
 * (plus the chunk that crosses it) is read. Errors of the stream cancel it and re-raise.
 *
 * @example await readAtMost(request.body, 64 * 1024) // Uint8Array, or null when larger
 */
export async function readAtMost(stream: ReadableStream<Uint8Array>, maxBytes: number, readChunk: ChunkReader = (reader) => reader.read()): Promise<Uint8Array | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await readChunk(reader);
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        return null;
      }
      chunks.push(value);
    }
  } catch (error) {
    void reader.cancel().catch(() => undefined);
    throw error;
  }

  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}
