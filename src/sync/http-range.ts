/**
 * Single-range parsing for `Range: bytes=...` (RFC 9110 section 14.2).
 *
 * Returns `{ kind: "none" }` when the header is absent, is not a bytes range, or requests
 * several ranges (a server may then send the whole representation);
 * `{ kind: "unsatisfiable" }` when no byte of the file is in the range; else the
 * inclusive byte range clipped to the file.
 *
 * @example parseRange("bytes=0-99", 1000)  // { kind: "range", start: 0, end: 99 }
 * @example parseRange("bytes=-100", 1000)  // { kind: "range", start: 900, end: 999 }
 */
export type RangeRequest = { kind: "none" } | { kind: "unsatisfiable" } | { kind: "range"; start: number; end: number };

export function parseRange(header: string | null | undefined, size: number): RangeRequest {
  if (!header) return { kind: "none" };
  const match = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!match) return { kind: "none" };
  const specs = match[1]!.split(",").map((spec) => spec.trim()).filter((spec) => spec.length > 0);
  if (specs.length !== 1) return { kind: "none" };

  const spec = /^(\d*)\s*-\s*(\d*)$/.exec(specs[0]!);
  if (!spec || (spec[1] === "" && spec[2] === "")) return { kind: "none" };

  if (spec[1] === "") {
    const suffix = Number(spec[2]);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(spec[1]);
  const end = spec[2] === "" ? Number.MAX_SAFE_INTEGER : Number(spec[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return { kind: "none" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "range", start, end: Math.min(end, size - 1) };
}

/**
 * Decides whether a conditional GET may return 304 (RFC 9110 section 13.2.2):
 * If-None-Match when present, else If-Modified-Since.
 */
export function isNotModified(headers: { ifNoneMatch: string | null; ifModifiedSince: string | null }, etag: string, lastModifiedMs: number): boolean {
  if (headers.ifNoneMatch !== null) {
    const tags = headers.ifNoneMatch.split(",").map((tag) => tag.trim().replace(/^W\//, ""));
    return tags.includes("*") || tags.includes(etag);
  }
  if (headers.ifModifiedSince !== null) {
    const since = Date.parse(headers.ifModifiedSince);
    // HTTP dates have whole seconds.
    return Number.isFinite(since) && Math.floor(lastModifiedMs / 1000) * 1000 <= since;
  }
  return false;
}

/** Checks whether an If-Range header lets the Range apply: absent, or the same strong ETag or date. */
export function ifRangeMatches(ifRange: string | null, etag: string, lastModifiedMs: number): boolean {
  if (ifRange === null) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith("W/")) return value === etag;
  const date = Date.parse(value);
  return Number.isFinite(date) && Math.floor(lastModifiedMs / 1000) * 1000 === date;
}
