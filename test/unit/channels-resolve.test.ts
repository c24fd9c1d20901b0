import { describe, expect, it } from "vitest";
import { computeChannelStates, parseTolerant, resolveRegexpChannel, type ChannelState, type ReleaseFacts } from "../../src/channels/resolve";

const release = (version: string, publishedAt: string, prerelease = false): ReleaseFacts => ({ version, publishedAt, prerelease });

describe("parseTolerant", () => {
  it.each([
    ["v1.25.6+k3s1", "1.25.6"],
    ["1.25", "1.25.0"],
    ["v1", "1.0.0"],
    ["v1.26.2-rc1+k3s1", "1.26.2-rc1"],
  ])("parses %s as %s", (tag, expected) => {
    expect(parseTolerant(tag)?.version).toBe(expected);
  });

  it.each(["stable", "", "v1.x", "release-1.25"])("returns null for %j", (tag) => {
    expect(parseTolerant(tag)).toBeNull();
  });
});

describe("resolveRegexpChannel", () => {
  const releases = [
    release("v1.26.1+k3s1", "2023-01-26T10:00:00Z"),
    release("v1.26.0+k3s1", "2022-12-21T10:00:00Z"),
    release("v1.26.2-rc1+k3s1", "2023-02-22T10:00:00Z"),
    release("v1.27.0+k3s1", "2023-04-01T10:00:00Z", true),
    release("v1.25.16+k3s1", "2023-11-01T10:00:00Z"),
    release("v1.25.16+k3s4", "2024-01-10T10:00:00Z"),
    release("v1.25.9+k3s1", "2023-04-01T10:00:00Z"),
  ];

  it.each([
    ["takes the highest match", { name: "c", latestRegexp: "v1\\.26\\..*", excludeRegexp: "^[^+]+-" }, "v1.26.1+k3s1"],
    ["matches anywhere in the tag", { name: "c", latestRegexp: "-(alpha|beta|rc)" }, "v1.26.2-rc1+k3s1"],
    ["skips releases marked prerelease", { name: "c", latestRegexp: "v1\\.27" }, null],
    ["applies excludeRegexp", { name: "c", latestRegexp: ".*", excludeRegexp: "(^[^+]+-|v1\\.26\\.1\\+k3s1)" }, "v1.26.0+k3s1"],
    ["compares numerically, not as text", { name: "c", latestRegexp: "v1\\.25\\." }, "v1.25.16+k3s4"],
    ["returns null without a match", { name: "c", latestRegexp: "v1\\.99\\." }, null],
  ])("%s", (_label, channel, expected) => {
    expect(resolveRegexpChannel(channel, releases)).toBe(expected);
  });

  it("breaks a build-metadata tie by the later publication", () => {
    const tied = [release("v1.25.16+k3s1", "2024-02-01T00:00:00Z"), release("v1.25.16+k3s4", "2024-01-01T00:00:00Z")];
    expect(resolveRegexpChannel({ name: "c", latestRegexp: "v1\\.25\\." }, tied)).toBe("v1.25.16+k3s1");
  });

  it("ignores tags that are not versions", () => {
    const mixed = [release("nightly", "2024-01-01T00:00:00Z"), release("v1.25.1+k3s1", "2023-01-01T00:00:00Z")];
    expect(resolveRegexpChannel({ name: "c", latestRegexp: ".*" }, mixed)).toBe("v1.25.1+k3s1");
  });
});

describe("computeChannelStates", () => {
  const releases = [release("v1.30.2+k3s1", "2024-06-01T00:00:00Z"), release("v1.30.1+k3s1", "2024-05-01T00:00:00Z"), release("v1.31.0+k3s1", "2024-08-01T00:00:00Z")];
  const published = new Set(["v1.30.1+k3s1", "v1.31.0+k3s1"]);
  const base = {
    releases,
    upstream: new Map<string, string | null>([["stable", "v1.30.2+k3s1"]]),
    isOfferable: (version: string) => published.has(version),
    previous: new Map<string, ChannelState>(),
    now: "2024-06-02T00:00:00.000Z",
  };

  it("serves a pinned version that is published", () => {
    const [state] = computeChannelStates({ ...base, channels: [{ name: "pin", latest: "v1.31.0+k3s1" }] });
    expect(state).toMatchObject({ version: "v1.31.0+k3s1", wanted: "v1.31.0+k3s1" });
  });

  it("keeps the previous answer while a pinned version is unpublished", () => {
    const previous = new Map([["pin", { name: "pin", version: "v1.30.1+k3s1", wanted: "v1.30.1+k3s1", since: "2024-05-02T00:00:00.000Z", wantedSince: "2024-05-02T00:00:00.000Z" }]]);
    const [state] = computeChannelStates({ ...base, previous, channels: [{ name: "pin", latest: "v1.30.2+k3s1" }] });
    expect(state).toMatchObject({ version: "v1.30.1+k3s1", wanted: "v1.30.2+k3s1", since: "2024-05-02T00:00:00.000Z", wantedSince: base.now });
  });

  it("follows upstream for a channel without rules, gated by publication", () => {
    const [state] = computeChannelStates({ ...base, channels: [{ name: "stable" }] });
    expect(state).toMatchObject({ version: null, wanted: "v1.30.2+k3s1" });
  });

  it("falls back to the best published match for a regexp channel", () => {
    const [state] = computeChannelStates({ ...base, channels: [{ name: "v1.30", latestRegexp: "v1\\.30\\." }] });
    expect(state).toMatchObject({ version: "v1.30.1+k3s1", wanted: "v1.30.2+k3s1" });
  });

  it("offers everything when every version is offerable", () => {
    const [state] = computeChannelStates({ ...base, isOfferable: () => true, channels: [{ name: "pin", latest: "v9.9.9+k3s1" }] });
    expect(state?.version).toBe("v9.9.9+k3s1");
  });
});
