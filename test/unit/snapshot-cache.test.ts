import { beforeEach, describe, expect, it } from "vitest";
import { cachedSnapshot, invalidateSnapshots } from "../../src/channels/snapshot-cache";

function counter() {
  let loads = 0;
  return { load: async () => ++loads, loads: () => loads };
}

beforeEach(() => {
  invalidateSnapshots();
});

describe("cachedSnapshot", () => {
  it("reuses a value within its TTL", async () => {
    const source = counter();
    expect(await cachedSnapshot("k", 1000, 0, source.load)).toBe(1);
    expect(await cachedSnapshot("k", 1000, 999, source.load)).toBe(1);
    expect(source.loads()).toBe(1);
  });

  it("reloads after the TTL", async () => {
    const source = counter();
    await cachedSnapshot("k", 1000, 0, source.load);
    expect(await cachedSnapshot("k", 1000, 1000, source.load)).toBe(2);
  });

  it("reads every time with a TTL of 0", async () => {
    const source = counter();
    await cachedSnapshot("k", 0, 0, source.load);
    await cachedSnapshot("k", 0, 0, source.load);
    expect(source.loads()).toBe(2);
  });

  it("keeps keys apart", async () => {
    const source = counter();
    await cachedSnapshot("a", 1000, 0, source.load);
    expect(await cachedSnapshot("b", 1000, 0, source.load)).toBe(2);
  });

  it("reloads after invalidation", async () => {
    const source = counter();
    await cachedSnapshot("k", 1000, 0, source.load);
    invalidateSnapshots();
    expect(await cachedSnapshot("k", 1000, 1, source.load)).toBe(2);
  });

  it("does not keep a failed load", async () => {
    await expect(cachedSnapshot("k", 1000, 0, () => Promise.reject(new Error("D1 unavailable")))).rejects.toThrow("D1 unavailable");
    expect(await cachedSnapshot("k", 1000, 1, async () => "fresh")).toBe("fresh");
  });
});
