import { describe, expect, it } from "vitest";
import { canonicalVersion, partialVersion } from "../../src/versions";

describe("canonicalVersion", () => {
  it.each([
    ["v1.28.5+k3s1", "v1.28.5+k3s1"],
    ["v1.28.5%2Bk3s1", "v1.28.5+k3s1"],
    ["v1.28.5%2bk3s1", "v1.28.5+k3s1"],
    ["v1.28.5-k3s1", "v1.28.5+k3s1"],
    ["1.28.5+k3s2", "v1.28.5+k3s2"],
    ["v1.26.2-rc1+k3s1", "v1.26.2-rc1+k3s1"],
    ["v1.26.2-rc1-k3s1", "v1.26.2-rc1+k3s1"],
  ])("maps %s to %s", (input, expected) => {
    expect(canonicalVersion(input)).toBe(expected);
  });

  it.each(["stable", "v1.28.5", "1.28", "v1.28.5+k3s0", "v1.28.5+rke2r1", "v1.28.5+k3s1;rm", "", "v01.28.5+k3s1"])("rejects %j", (input) => {
    expect(canonicalVersion(input)).toBeNull();
  });
});

describe("partialVersion", () => {
  it("accepts a version without build suffix", () => {
    expect(partialVersion("1.28.5")).toBe("v1.28.5");
    expect(partialVersion("v1.28.5")).toBe("v1.28.5");
  });

  it("rejects a full or malformed version", () => {
    expect(partialVersion("v1.28.5+k3s1")).toBeNull();
    expect(partialVersion("latest")).toBeNull();
  });
});
