import { describe, expect, it } from "vitest";
import { resolveExplicitVersion } from "../../src/install/resolve-version";

const OFFERED = ["v1.28.5+k3s1", "v1.28.5+k3s2", "v1.28.4+k3s1", "v1.28.10+k3s1", "v1.33.6+k3s1", "v1.26.2-rc1+k3s1", "v1.26.2-rc1+k3s2"];

describe("resolveExplicitVersion", () => {
  it.each([
    ["v1.28.5+k3s1", "v1.28.5+k3s1"],
    ["v1.28.5%2Bk3s1", "v1.28.5+k3s1"],
    ["v1.28.5%2bk3s1", "v1.28.5+k3s1"],
    ["v1.28.5-k3s1", "v1.28.5+k3s1"],
    ["1.28.5+k3s1", "v1.28.5+k3s1"],
    ["v1.28.5 k3s1", "v1.28.5+k3s1"],
    [" v1.28.5+k3s2 ", "v1.28.5+k3s2"],
  ])("resolves the exact form %j", (input, expected) => {
    expect(resolveExplicitVersion(input, OFFERED)).toEqual({ kind: "exact", version: expected });
  });

  it.each([
    ["1.28.5", "v1.28.5+k3s2", "v1.28.5"],
    ["v1.28.5", "v1.28.5+k3s2", "v1.28.5"],
    ["v1.28.10", "v1.28.10+k3s1", "v1.28.10"],
    ["v1.26.2-rc1", "v1.26.2-rc1+k3s2", "v1.26.2-rc1"],
  ])("resolves %j to the newest build", (input, expected, typed) => {
    expect(resolveExplicitVersion(input, OFFERED)).toEqual({ kind: "newest-build", version: expected, typed });
  });

  it("compares builds numerically", () => {
    const resolution = resolveExplicitVersion("v1.30.1", ["v1.30.1+k3s2", "v1.30.1+k3s10", "v1.30.1+k3s9"]);
    expect(resolution).toEqual({ kind: "newest-build", version: "v1.30.1+k3s10", typed: "v1.30.1" });
  });

  it("does not take a pre-release for a release", () => {
    const resolution = resolveExplicitVersion("v1.26.2", OFFERED);
    expect(resolution.kind).toBe("not-offered");
  });

  it("lists the same minor line, newest first, for a missing version", () => {
    expect(resolveExplicitVersion("v1.28.6+k3s1", OFFERED)).toEqual({ kind: "not-offered", wanted: "v1.28.6+k3s1", nearby: ["v1.28.10+k3s1", "v1.28.5+k3s2", "v1.28.5+k3s1", "v1.28.4+k3s1"] });
  });

  it("lists the newest versions for an unknown minor line", () => {
    const resolution = resolveExplicitVersion("1.31.0", OFFERED);
    expect(resolution).toMatchObject({ kind: "not-offered", wanted: "v1.31.0" });
    expect(resolution.kind === "not-offered" && resolution.nearby[0]).toBe("v1.33.6+k3s1");
  });

  it("returns an empty list when nothing is offered", () => {
    expect(resolveExplicitVersion("v1.28.5", [])).toEqual({ kind: "not-offered", wanted: "v1.28.5", nearby: [] });
  });

  it.each(["stable", "latest", "v1.28", "1", "", "v1.28.5+k3s0", "v1.28.5+rke2r1", "v1.28.5;id", "$(id)", `v1.28.5+k3s1${"1".repeat(60)}`])("rejects %j", (input) => {
    expect(resolveExplicitVersion(input, OFFERED)).toEqual({ kind: "invalid", input });
  });
});
