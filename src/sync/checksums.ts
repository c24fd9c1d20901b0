/**
 * Parsing of a release's `sha256sum-<arch>.txt`: `sha256sum` output, one line per
 * artifact, `<64 lowercase hex><two spaces or space and star><file name>`.
 */

/** Largest checksum file accepted; real ones are a few hundred bytes. */
export const MAX_CHECKSUM_FILE_BYTES = 64 * 1024;

export type ChecksumParse =
  | { ok: true; entries: Map<string, string> }
  | { ok: false; reason: "empty" | "html" | "malformed" | "conflict"; message: string };

const LINE_PATTERN = /^([0-9a-fA-F]{64}) [ *]([A-Za-z0-9._+-]{1,255})$/;

/**
 * Parses a checksum file. Rejects an HTML page, an empty file, any line that is not
 * `<hash>  <name>`, and a name listed twice with different hashes.
 *
 * @example parseChecksumFile("<64 hex>  k3s\n") // { ok: true, entries: Map { "k3s" => "<64 hex>" } }
 */
export function parseChecksumFile(text: string): ChecksumParse {
  const trimmed = text.replace(/^\uFEFF/, "").trim();
  if (trimmed.length === 0) return { ok: false, reason: "empty", message: "the checksum file is empty" };
  if (/^<(!doctype|html|\?xml|head|body)/i.test(trimmed) || /<\/html>/i.test(trimmed)) {
    return { ok: false, reason: "html", message: "the checksum file is an HTML page, not sha256sum output" };
  }

  const entries = new Map<string, string>();
  const lines = trimmed.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const match = LINE_PATTERN.exec(line.trim());
    if (!match) {
      return { ok: false, reason: "malformed", message: `line ${index + 1} of the checksum file is not "<sha256>  <file>": ${JSON.stringify(line.slice(0, 120))}` };
    }
    const hash = match[1]!.toLowerCase();
    const name = match[2]!;
    const previous = entries.get(name);
    if (previous !== undefined && previous !== hash) {
      return { ok: false, reason: "conflict", message: `the checksum file lists ${name} twice with different hashes` };
    }
    entries.set(name, hash);
  }
  return { ok: true, entries };
}

/** Returns true when the first bytes of a body look like an HTML page. */
export function looksLikeHtml(firstBytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(firstBytes.subarray(0, 256)).replace(/^\uFEFF/, "").trimStart();
  return /^<(!doctype html|html|head|body)[\s>]/i.test(head);
}
