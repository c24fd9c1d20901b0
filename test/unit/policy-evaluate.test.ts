import { describe, expect, it } from "vitest";
import { evaluatePolicy, type BaseChannel, type PolicyInput } from "../../src/policy/evaluate";
import { PolicyDocument } from "../../src/policy/schema";

const NOW_MS = Date.parse("2026-03-01T12:00:00Z");

const BASE_CHANNELS: BaseChannel[] = [
  { name: "stable", version: "v1.30.4+k3s1", wanted: "v1.30.4+k3s1" },
  { name: "latest", version: "v1.31.2+k3s1", wanted: "v1.31.2+k3s1", latestRegexp: ".*", excludeRegexp: "^[^+]+-" },
  { name: "testing", version: "v1.32.0-rc1+k3s1", wanted: "v1.32.0-rc1+k3s1", latestRegexp: "-(alpha|beta|rc)" },
  { name: "v1.30", version: "v1.30.4+k3s1", wanted: "v1.30.4+k3s1", latestRegexp: "v1\\.30\\..*" },
  { name: "v1.31", version: "v1.31.2+k3s1", wanted: "v1.31.2+k3s1", latestRegexp: "v1\\.31\\..*" },
];

const OFFERABLE = ["v1.29.9+k3s1", "v1.30.2+k3s1", "v1.30.3+k3s1", "v1.30.4+k3s1", "v1.31.1+k3s1", "v1.31.2+k3s1", "v1.32.0-rc1+k3s1"];

function input(policy: unknown, overrides: Partial<PolicyInput> = {}): PolicyInput {
  return {
    baseChannels: BASE_CHANNELS,
    offerable: new Set(OFFERABLE),
    prereleases: new Set(["v1.32.0-rc1+k3s1"]),
    policy: PolicyDocument.parse(policy),
    configDefaultChannel: "stable",
    nowMs: NOW_MS,
    ...overrides,
  };
}

function answers(policy: unknown, clusterId: string | null = null, overrides: Partial<PolicyInput> = {}): Record<string, string | null> {
  const effective = evaluatePolicy(input(policy, overrides), clusterId);
  return Object.fromEntries(effective.channels.map((channel) => [channel.name, channel.version]));
}

function reasonKinds(policy: unknown, channel: string, clusterId: string | null = null): string[] {
  const effective = evaluatePolicy(input(policy), clusterId);
  return effective.channels.find((candidate) => candidate.name === channel)!.reasons.map((reason) => reason.kind);
}

const UNCHANGED = {
  stable: "v1.30.4+k3s1",
  latest: "v1.31.2+k3s1",
  testing: "v1.32.0-rc1+k3s1",
  "v1.30": "v1.30.4+k3s1",
  "v1.31": "v1.31.2+k3s1",
};

const FROZEN_ORG = { reason: "year-end change freeze", since: "2026-02-01T00:00:00Z", versions: { stable: "v1.30.3+k3s1", latest: "v1.31.1+k3s1" } };

describe("evaluatePolicy", () => {
  const cases: Array<{ name: string; policy: unknown; cluster?: string; now?: string; expected: Record<string, string | null> }> = [
    { name: "empty policy keeps the channel config's answers", policy: {}, expected: UNCHANGED },
    { name: "follow answers the followed config channel", policy: { channels: { stable: { follow: "v1.31" } } }, expected: { ...UNCHANGED, stable: "v1.31.2+k3s1" } },
    { name: "follow of a missing channel answers nothing", policy: { channels: { stable: { follow: "v1.99" } } }, expected: { ...UNCHANGED, stable: null } },
    { name: "pin answers the pinned version", policy: { channels: { stable: { pin: "v1.30.2+k3s1" } } }, expected: { ...UNCHANGED, stable: "v1.30.2+k3s1" } },
    { name: "pin accepts the image-tag spelling", policy: { channels: { stable: { pin: "v1.30.2-k3s1" } } }, expected: { ...UNCHANGED, stable: "v1.30.2+k3s1" } },
    {
      name: "pending pin answers its whilePending version",
      policy: { channels: { stable: { pin: "v1.30.9+k3s1", whilePending: "v1.30.3+k3s1" } } },
      expected: { ...UNCHANGED, stable: "v1.30.3+k3s1" },
    },
    { name: "pending pin without fallback answers nothing", policy: { channels: { stable: { pin: "v1.30.9+k3s1", whilePending: null } } }, expected: { ...UNCHANGED, stable: null } },
    { name: "range takes the newest offerable match", policy: { channels: { lts: { range: ">=1.30.0 <1.31.0" } } }, expected: { ...UNCHANGED, lts: "v1.30.4+k3s1" } },
    { name: "range skips pre-releases", policy: { channels: { next: { range: ">=1.32.0-0" } } }, expected: { ...UNCHANGED, next: null } },
    { name: "range with no match answers nothing", policy: { channels: { old: { range: "<1.20.0" } } }, expected: { ...UNCHANGED, old: null } },
    { name: "range skips blocked versions", policy: { channels: { lts: { range: "~1.30" } }, blocked: [{ version: "v1.30.4+k3s1", reason: "breaks etcd" }] }, expected: { ...UNCHANGED, stable: "v1.30.3+k3s1", "v1.30": "v1.30.3+k3s1", lts: "v1.30.3+k3s1" } },
    {
      name: "hide removes a channel",
      policy: { channels: { testing: { hide: true } } },
      expected: { stable: "v1.30.4+k3s1", latest: "v1.31.2+k3s1", "v1.30": "v1.30.4+k3s1", "v1.31": "v1.31.2+k3s1" },
    },
    {
      name: "blocked version falls back to the patch below it",
      policy: { blocked: [{ version: "v1.31.2+k3s1", reason: "regression in flannel" }] },
      expected: { ...UNCHANGED, latest: "v1.31.1+k3s1", "v1.31": "v1.31.1+k3s1" },
    },
    {
      name: "blocked range falls back below the range",
      policy: { blocked: [{ range: ">=1.30.3 <1.30.5", reason: "CVE in containerd" }] },
      expected: { ...UNCHANGED, stable: "v1.30.2+k3s1", "v1.30": "v1.30.2+k3s1" },
    },
    {
      name: "blocked version with no older patch answers nothing",
      policy: { blocked: [{ range: "1.31.x", reason: "withdrawn" }] },
      expected: { ...UNCHANGED, latest: null, "v1.31": null },
    },
    { name: "org freeze answers the frozen values", policy: { freeze: FROZEN_ORG }, expected: { ...UNCHANGED, stable: "v1.30.3+k3s1", latest: "v1.31.1+k3s1" } },
    {
      name: "org freeze ends at until",
      policy: { freeze: { ...FROZEN_ORG, until: "2026-03-01T00:00:00Z" } },
      expected: UNCHANGED,
    },
    {
      name: "org freeze holds over a later pin",
      policy: { freeze: FROZEN_ORG, channels: { stable: { pin: "v1.30.2+k3s1" } } },
      expected: { ...UNCHANGED, stable: "v1.30.3+k3s1", latest: "v1.31.1+k3s1" },
    },
    {
      name: "channel freeze wins over the org freeze",
      policy: { freeze: FROZEN_ORG, channels: { stable: { freeze: { reason: "audit", since: "2026-02-10T00:00:00Z", version: "v1.30.2+k3s1" } } } },
      expected: { ...UNCHANGED, stable: "v1.30.2+k3s1", latest: "v1.31.1+k3s1" },
    },
    {
      name: "frozen version that becomes blocked falls back",
      policy: { freeze: FROZEN_ORG, blocked: [{ version: "v1.30.3+k3s1", reason: "bad build" }] },
      expected: { ...UNCHANGED, stable: "v1.30.2+k3s1", latest: "v1.31.1+k3s1" },
    },
    {
      name: "frozen version no longer offerable answers nothing",
      policy: { channels: { stable: { freeze: { reason: "audit", since: "2026-02-10T00:00:00Z", version: "v1.28.1+k3s1" } } } },
      expected: { ...UNCHANGED, stable: null },
    },
    {
      name: "cluster in a group by id gets the group's channel as default",
      policy: { clusterGroups: [{ name: "canary", clusters: ["uid-1"], channel: "latest" }] },
      cluster: "uid-1",
      expected: { ...UNCHANGED, stable: "v1.31.2+k3s1" },
    },
    {
      name: "cluster outside every group gets the org answers",
      policy: { clusterGroups: [{ name: "canary", clusters: ["uid-1"], channel: "latest" }] },
      cluster: "uid-2",
      expected: UNCHANGED,
    },
    {
      name: "cluster matched by pattern gets the group's channel",
      policy: { clusterGroups: [{ name: "edge", patterns: ["edge-*"], channel: "v1.31" }] },
      cluster: "edge-store-17",
      expected: { ...UNCHANGED, stable: "v1.31.2+k3s1" },
    },
    {
      name: "policy default channel is the one a group replaces",
      policy: { defaultChannel: "latest", clusterGroups: [{ name: "slow", clusters: ["uid-1"], channel: "v1.30" }] },
      cluster: "uid-1",
      expected: { ...UNCHANGED, latest: "v1.30.4+k3s1" },
    },
    {
      name: "group freeze holds the group's channels",
      policy: {
        clusterGroups: [{ name: "retail", patterns: ["store-*"], channel: "latest", freeze: { reason: "holiday season", since: "2026-02-01T00:00:00Z", versions: { stable: "v1.31.1+k3s1", latest: "v1.31.1+k3s1" } } }],
      },
      cluster: "store-9",
      expected: { ...UNCHANGED, stable: "v1.31.1+k3s1", latest: "v1.31.1+k3s1" },
    },
    {
      name: "group freeze leaves other clusters alone",
      policy: {
        clusterGroups: [{ name: "retail", patterns: ["store-*"], freeze: { reason: "holiday season", since: "2026-02-01T00:00:00Z", versions: { stable: "v1.30.2+k3s1" } } }],
      },
      cluster: "office-1",
      expected: UNCHANGED,
    },
    {
      name: "group freeze wins over the org freeze",
      policy: {
        freeze: FROZEN_ORG,
        clusterGroups: [{ name: "retail", clusters: ["store-1"], freeze: { reason: "holiday season", since: "2026-02-01T00:00:00Z", versions: { stable: "v1.30.2+k3s1" } } }],
      },
      cluster: "store-1",
      expected: { ...UNCHANGED, stable: "v1.30.2+k3s1", latest: "v1.31.1+k3s1" },
    },
    {
      name: "group channel follows the org's policy channel",
      policy: { channels: { lts: { pin: "v1.29.9+k3s1" } }, clusterGroups: [{ name: "legacy", clusters: ["old-1"], channel: "lts" }] },
      cluster: "old-1",
      expected: { ...UNCHANGED, stable: "v1.29.9+k3s1", lts: "v1.29.9+k3s1" },
    },
    {
      name: "exact id wins over another group's pattern",
      policy: {
        clusterGroups: [
          { name: "prod", patterns: ["prod-*"], channel: "v1.30" },
          { name: "pilot", clusters: ["prod-7"], channel: "latest" },
        ],
      },
      cluster: "prod-7",
      expected: { ...UNCHANGED, stable: "v1.31.2+k3s1" },
    },
  ];

  for (const testCase of cases) {
    it(testCase.name.replace(/^./, (first) => first.toLowerCase()), () => {
      const overrides = testCase.now ? { nowMs: Date.parse(testCase.now) } : {};
      expect(answers(testCase.policy, testCase.cluster ?? null, overrides)).toEqual(testCase.expected);
    });
  }

  it("lists config channels first, then policy channels in document order", () => {
    const effective = evaluatePolicy(input({ channels: { zeta: { pin: "v1.30.2+k3s1" }, alpha: { follow: "stable" }, stable: { pin: "v1.30.3+k3s1" } } }), null);
    expect(effective.channels.map((channel) => channel.name)).toEqual(["stable", "latest", "testing", "v1.30", "v1.31", "zeta", "alpha"]);
  });

  it("keeps regexps only on channels the policy leaves alone", () => {
    const effective = evaluatePolicy(input({ channels: { "v1.31": { pin: "v1.31.1+k3s1" } } }), null);
    const latest = effective.channels.find((channel) => channel.name === "latest")!;
    const minor = effective.channels.find((channel) => channel.name === "v1.31")!;
    expect(latest.latestRegexp).toBe(".*");
    expect(latest.excludeRegexp).toBe("^[^+]+-");
    expect(minor.latestRegexp).toBeUndefined();
  });

  it("names the default channel from policy, group, or config", () => {
    expect(evaluatePolicy(input({}), null).defaultChannel).toBe("stable");
    expect(evaluatePolicy(input({ defaultChannel: "v1.30" }), null).defaultChannel).toBe("v1.30");
    const grouped = evaluatePolicy(input({ defaultChannel: "v1.30", clusterGroups: [{ name: "fast", patterns: ["f?"], channel: "latest" }] }), "f1");
    expect(grouped.defaultChannel).toBe("latest");
    expect(grouped.group).toEqual({ name: "fast", matchedBy: { kind: "pattern", pattern: "f?" } });
    expect(evaluatePolicy(input({ clusterGroups: [{ name: "fast", patterns: ["f?"], channel: "latest" }] }), "f12").group).toBeNull();
  });

  it("tags each step behind an answer", () => {
    expect(reasonKinds({}, "stable")).toEqual(["channel-config"]);
    expect(reasonKinds({ channels: { stable: { follow: "v1.31" } } }, "stable")).toEqual(["follow"]);
    expect(reasonKinds({ channels: { stable: { pin: "v1.30.9+k3s1", whilePending: "v1.30.3+k3s1" } } }, "stable")).toEqual(["pin-pending"]);
    expect(reasonKinds({ freeze: FROZEN_ORG }, "stable")).toEqual(["channel-config", "frozen"]);
    expect(reasonKinds({ blocked: [{ version: "v1.30.4+k3s1", reason: "bad" }] }, "stable")).toEqual(["channel-config", "blocked"]);
    expect(reasonKinds({ clusterGroups: [{ name: "c", clusters: ["x"], channel: "v1.31" }] }, "stable", "x")).toEqual(["channel-config", "cluster-group"]);
    expect(reasonKinds({ channels: { stable: { freeze: { reason: "r", since: "2026-01-01T00:00:00Z", version: "v1.20.1+k3s1" } } } }, "stable")).toEqual(["channel-config", "frozen", "unpublished"]);
  });

  it("reports the blocked version, its reason and the replacement", () => {
    const effective = evaluatePolicy(input({ blocked: [{ version: "v1.31.2+k3s1", reason: "regression in flannel" }] }), null);
    const latest = effective.channels.find((channel) => channel.name === "latest")!;
    expect(latest.reasons.at(-1)).toEqual({ kind: "blocked", version: "v1.31.2+k3s1", reason: "regression in flannel", rule: "v1.31.2+k3s1", replacement: "v1.31.1+k3s1" });
  });

  it("answers the patch below a blocked wanted version when the state is empty", () => {
    const baseChannels = [{ name: "stable", version: null, wanted: "v1.30.4+k3s1" }];
    const effective = evaluatePolicy(input({ blocked: [{ version: "v1.30.4+k3s1", reason: "bad" }] }, { baseChannels }), null);
    expect(effective.channels).toEqual([
      { name: "stable", version: "v1.30.3+k3s1", reasons: [{ kind: "channel-config" }, { kind: "blocked", version: "v1.30.4+k3s1", reason: "bad", rule: "v1.30.4+k3s1", replacement: "v1.30.3+k3s1" }] },
    ]);
  });

  it("reads the until of a freeze against now", () => {
    const policy = { channels: { stable: { freeze: { reason: "window", since: "2026-02-01T00:00:00Z", until: "2026-03-01T12:00:01Z", version: "v1.30.2+k3s1" } } } };
    expect(answers(policy).stable).toBe("v1.30.2+k3s1");
    expect(answers(policy, null, { nowMs: Date.parse("2026-03-01T12:00:01Z") }).stable).toBe("v1.30.4+k3s1");
  });
});
