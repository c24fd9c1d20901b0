import { describe, expect, it } from "vitest";
import { ifRangeMatches, isNotModified, parseRange } from "../../src/sync/http-range";

describe("parseRange", () => {
  const cases: [string | null, number, ReturnType<typeof parseRange>][] = [
    [null, 1000, { kind: "none" }],
    ["bytes=0-99", 1000, { kind: "range", start: 0, end: 99 }],
    ["bytes=900-", 1000, { kind: "range", start: 900, end: 999 }],
    ["bytes=-100", 1000, { kind: "range", start: 900, end: 999 }],
    ["bytes=-5000", 1000, { kind: "range", start: 0, end: 999 }],
    ["bytes=990-5000", 1000, { kind: "range", start: 990, end: 999 }],
    ["bytes=1000-", 1000, { kind: "unsatisfiable" }],
    ["bytes=2000-3000", 1000, { kind: "unsatisfiable" }],
    ["bytes=-0", 1000, { kind: "unsatisfiable" }],
    ["bytes=0-0,10-20", 1000, { kind: "none" }],
    ["bytes=50-10", 1000, { kind: "none" }],
    ["items=0-10", 1000, { kind: "none" }],
    ["bytes=abc", 1000, { kind: "none" }],
  ];
  for (const [header, size, expected] of cases) {
    it(`reads ${JSON.stringify(header)} of ${size} bytes`, () => {
      expect(parseRange(header, size)).toEqual(expected);
    });
  }
});

describe("isNotModified", () => {
  const etag = '"abc"';
  const lastModifiedMs = Date.parse("2025-01-01T00:00:00.500Z");

  it("matches If-None-Match lists, weak tags and *", () => {
    expect(isNotModified({ ifNoneMatch: '"x", "abc"', ifModifiedSince: null }, etag, lastModifiedMs)).toBe(true);
    expect(isNotModified({ ifNoneMatch: 'W/"abc"', ifModifiedSince: null }, etag, lastModifiedMs)).toBe(true);
    expect(isNotModified({ ifNoneMatch: "*", ifModifiedSince: null }, etag, lastModifiedMs)).toBe(true);
    expect(isNotModified({ ifNoneMatch: '"x"', ifModifiedSince: null }, etag, lastModifiedMs)).toBe(false);
  });

  it("ignores If-Modified-Since when If-None-Match is present", () => {
    expect(isNotModified({ ifNoneMatch: '"x"', ifModifiedSince: "Wed, 01 Jan 2025 00:00:00 GMT" }, etag, lastModifiedMs)).toBe(false);
  });

  it("compares If-Modified-Since in whole seconds", () => {
    expect(isNotModified({ ifNoneMatch: null, ifModifiedSince: "Wed, 01 Jan 2025 00:00:00 GMT" }, etag, lastModifiedMs)).toBe(true);
    expect(isNotModified({ ifNoneMatch: null, ifModifiedSince: "Tue, 31 Dec 2024 23:59:59 GMT" }, etag, lastModifiedMs)).toBe(false);
    expect(isNotModified({ ifNoneMatch: null, ifModifiedSince: "not a date" }, etag, lastModifiedMs)).toBe(false);
  });
});

describe("ifRangeMatches", () => {
  it("applies a range only for the same strong ETag or date", () => {
    const lastModifiedMs = Date.parse("2025-01-01T00:00:00Z");
    expect(ifRangeMatches(null, '"abc"', lastModifiedMs)).toBe(true);
    expect(ifRangeMatches('"abc"', '"abc"', lastModifiedMs)).toBe(true);
    expect(ifRangeMatches('"old"', '"abc"', lastModifiedMs)).toBe(false);
    expect(ifRangeMatches('W/"abc"', '"abc"', lastModifiedMs)).toBe(false);
    expect(ifRangeMatches("Wed, 01 Jan 2025 00:00:00 GMT", '"abc"', lastModifiedMs)).toBe(true);
  });
});
