import { describe, expect, it } from "vitest";
import { preparePolicyChange, type PolicyChange } from "../../src/policy/change";
import type { MirrorFacts } from "../../src/policy/evaluate";
import { PolicyDocument } from "../../src/policy/schema";

const NOW = "2026-03-01T12:00:00.000Z";

const FACTS: MirrorFacts = {
  baseChannels: [
    { name: "stable", version: "v1.30.4+k3s1", wanted: "v1.30.4+k3s1" },
    { name: "latest", version: "v1.31.2+k3s1", wanted: "v1.31.2+k3s1" },
    { name: "v1.30", version: "v1.30.4+k3s1", wanted: "v1.30.4+k3s1" },
    { name: "v1.31", version: "v1.31.2+k3s1", wanted: "v1.31.2+k3s1" },
  ],
  offerable: new Set(["v1.30.3+k3s1", "v1.30.4+k3s1", "v1.31.1+k3s1", "v1.31.2+k3s1"]),
  prereleases: new Set(),
};

function change(draft: unknown, options: Partial<Omit<PolicyChange, "draft">> & { live?: unknown } = {}): ReturnType<typeof preparePolicyChange> {
  return preparePolicyChange({
    facts: FACTS,
    configDefaultChannel: "stable",
    now: NOW,
    allowPending: false,
    ...options,
    live: PolicyDocument.parse(options.live ?? {}),
    draft: PolicyDocument.parse(draft),
  });
}

function problemsOf(draft: unknown, options: Parameters<typeof change>[1] = {}): Array<{ field: string; message: string }> {
  const prepared = change(draft, options);
  return prepared.ok ? [] : prepared.problems;
}

function completed(draft: unknown, options: Parameters<typeof change>[1] = {}): PolicyDocument {
  const prepared = change(draft, options);
  if (!prepared.ok) throw new Error(`unexpected rejection: ${JSON.stringify(prepared.problems)}`);
  return prepared.policy;
}

describe("preparePolicyChange rejections", () => {
  const cases: Array<{ name: string; draft: unknown; field: string; message: RegExp; options?: Parameters<typeof change>[1] }> = [
    { name: "pin to an unpublished version", draft: { channels: { stable: { pin: "v1.30.9+k3s1" } } }, field: "channels.stable.pin", message: /not published.*allowPending=true/ },
    {
      name: "pin to a blocked version",
      draft: { channels: { stable: { pin: "v1.30.3+k3s1" } }, blocked: [{ version: "v1.30.3+k3s1", reason: "bad build" }] },
      field: "channels.stable.pin",
      message: /blocked by "v1.30.3\+k3s1" \(bad build\)/,
    },
    {
      name: "pin to a blocked version even with allowPending",
      draft: { channels: { stable: { pin: "v1.30.9+k3s1" } }, blocked: [{ range: ">=1.30.9", reason: "untested" }] },
      options: { allowPending: true },
      field: "channels.stable.pin",
      message: /blocked/,
    },
    { name: "follow of a missing channel", draft: { channels: { stable: { follow: "v1.29" } } }, field: "channels.stable.follow", message: /"v1.29", which the channel config does not have/ },
    { name: "hide of a missing channel", draft: { channels: { ghost: { hide: true } } }, field: "channels.ghost.hide", message: /does not have/ },
    { name: "default channel that does not exist", draft: { defaultChannel: "prod" }, field: "defaultChannel", message: /"prod", which does not exist/ },
    { name: "default channel that is hidden", draft: { defaultChannel: "latest", channels: { latest: { hide: true } } }, field: "defaultChannel", message: /hides/ },
    { name: "hiding the configured default channel", draft: { channels: { stable: { hide: true } } }, field: "defaultChannel", message: /DEFAULT_CHANNEL var names channel "stable", which this policy hides/ },
    { name: "group naming a missing channel", draft: { clusterGroups: [{ name: "edge", patterns: ["edge-*"], channel: "edge" }] }, field: "clusterGroups[0].channel", message: /"edge", which does not exist/ },
    {
      name: "overlapping patterns with different channels",
      draft: {
        clusterGroups: [
          { name: "prod", patterns: ["prod-*"], channel: "stable" },
          { name: "eu", patterns: ["*-eu-*"], channel: "latest" },
        ],
      },
      field: "clusterGroups[1].patterns[0]",
      message: /"\*-eu-\*" can match the same clusters as "prod-\*" of group "prod", which has a different channel/,
    },
    {
      name: "overlapping patterns with different freezes",
      draft: {
        clusterGroups: [
          { name: "a", patterns: ["shop-?"], channel: "stable" },
          { name: "b", patterns: ["shop-1*"], channel: "stable", freeze: { reason: "audit" } },
        ],
      },
      field: "clusterGroups[1].patterns[0]",
      message: /different freeze/,
    },
    {
      name: "one cluster id in two groups",
      draft: {
        clusterGroups: [
          { name: "a", clusters: ["uid-1"], channel: "stable" },
          { name: "b", clusters: ["uid-2", "uid-1"], channel: "stable" },
        ],
      },
      field: "clusterGroups[1].clusters[1]",
      message: /also listed in group "a"/,
    },
    {
      name: "duplicate group names",
      draft: {
        clusterGroups: [
          { name: "a", clusters: ["uid-1"], channel: "stable" },
          { name: "a", clusters: ["uid-2"], channel: "stable" },
        ],
      },
      field: "clusterGroups[1].name",
      message: /unique/,
    },
    { name: "frozen value that is not published", draft: { freeze: { reason: "x", versions: { stable: "v1.29.1+k3s1" } } }, field: "freeze.versions.stable", message: /not published/ },
    { name: "frozen value of a missing channel", draft: { freeze: { reason: "x", versions: { nightly: "v1.30.3+k3s1" } } }, field: "freeze.versions.nightly", message: /does not exist or is hidden/ },
    {
      name: "channel freeze at a blocked version",
      draft: { channels: { "v1.30": { freeze: { reason: "x", version: "v1.30.3+k3s1" } } }, blocked: [{ version: "v1.30.3+k3s1", reason: "bad" }] },
      field: 'channels["v1.30"].freeze.version',
      message: /blocked/,
    },
    {
      name: "freeze of a current answer that the same change blocks",
      draft: { freeze: { reason: "x" }, blocked: [{ version: "v1.30.4+k3s1", reason: "bad" }] },
      field: "freeze.versions.stable",
      message: /freezes at v1.30.4\+k3s1 is blocked/,
    },
    { name: "freeze starting in the future", draft: { freeze: { reason: "x", since: "2026-04-01T00:00:00Z" } }, field: "freeze.since", message: /in the future/ },
    { name: "freeze ending before it starts", draft: { freeze: { reason: "x", since: "2026-02-01T00:00:00Z", until: "2026-01-01T00:00:00Z" } }, field: "freeze.until", message: /not after/ },
    {
      name: "whilePending that is not published",
      draft: { channels: { stable: { pin: "v1.30.9+k3s1", whilePending: "v1.30.1+k3s1" } } },
      field: "channels.stable.whilePending",
      message: /not published/,
    },
  ];

  for (const testCase of cases) {
    it(`rejects ${testCase.name}`, () => {
      const problems = problemsOf(testCase.draft, testCase.options);
      const problem = problems.find((candidate) => candidate.field === testCase.field);
      expect(problem, JSON.stringify(problems)).toBeDefined();
      expect(problem!.message).toMatch(testCase.message);
    });
  }

  it("lists every problem of a change at once", () => {
    const problems = problemsOf({ defaultChannel: "prod", channels: { stable: { follow: "nope" }, lts: { pin: "v1.30.9+k3s1" } } });
    expect(problems.map((problem) => problem.field).sort()).toEqual(["channels.lts.pin", "channels.stable.follow", "defaultChannel"]);
  });
});

describe("preparePolicyChange completion", () => {
  it("accepts a pin to a published version", () => {
    expect(completed({ channels: { stable: { pin: "v1.30.3+k3s1" } } })).toEqual({ channels: { stable: { pin: "v1.30.3+k3s1" } } });
  });

  it("records the current answer for a pending pin", () => {
    const policy = completed({ channels: { stable: { pin: "v1.30.9+k3s1" } } }, { allowPending: true });
    expect(policy.channels!.stable).toEqual({ pin: "v1.30.9+k3s1", whilePending: "v1.30.4+k3s1" });
  });

  it("keeps the live pending answer when a pin is reapplied", () => {
    const live = { channels: { stable: { pin: "v1.30.9+k3s1", whilePending: "v1.30.3+k3s1" } } };
    const policy = completed({ channels: { stable: { pin: "v1.30.9+k3s1", whilePending: "v1.30.3+k3s1" } } }, { live });
    expect(policy.channels!.stable!.whilePending).toBe("v1.30.3+k3s1");
  });

  it("records null for a pending pin on a new channel", () => {
    const policy = completed({ channels: { next: { pin: "v1.32.1+k3s1" } } }, { allowPending: true });
    expect(policy.channels!.next).toEqual({ pin: "v1.32.1+k3s1", whilePending: null });
  });

  it("fills an org freeze with the live answers", () => {
    const live = { channels: { stable: { pin: "v1.30.3+k3s1" } } };
    const policy = completed({ channels: { stable: { pin: "v1.30.4+k3s1" } }, freeze: { reason: "year end" } }, { live });
    expect(policy.freeze).toEqual({
      reason: "year end",
      since: NOW,
      versions: { stable: "v1.30.3+k3s1", latest: "v1.31.2+k3s1", "v1.30": "v1.30.4+k3s1", "v1.31": "v1.31.2+k3s1" },
    });
  });

  it("keeps frozen values given explicitly", () => {
    const policy = completed({ freeze: { reason: "r", since: "2026-02-01T00:00:00Z", versions: { stable: "v1.30.3+k3s1" } } });
    expect(policy.freeze!.since).toBe("2026-02-01T00:00:00Z");
    expect(policy.freeze!.versions!.stable).toBe("v1.30.3+k3s1");
    expect(policy.freeze!.versions!.latest).toBe("v1.31.2+k3s1");
  });

  it("fills a channel freeze with the channel's answer", () => {
    const policy = completed({ channels: { latest: { freeze: { reason: "soak" } } } });
    expect(policy.channels!.latest!.freeze).toEqual({ reason: "soak", since: NOW, version: "v1.31.2+k3s1" });
  });

  it("fills a new channel's freeze from the new policy", () => {
    const policy = completed({ channels: { lts: { range: "~1.30", freeze: { reason: "soak" } } } });
    expect(policy.channels!.lts!.freeze!.version).toBe("v1.30.4+k3s1");
  });

  it("fills a new group's freeze from the group's view", () => {
    const policy = completed({ clusterGroups: [{ name: "edge", patterns: ["edge-*"], channel: "v1.31", freeze: { reason: "holiday" } }] });
    expect(policy.clusterGroups![0]!.freeze!.versions).toEqual({ stable: "v1.31.2+k3s1", latest: "v1.31.2+k3s1", "v1.30": "v1.30.4+k3s1", "v1.31": "v1.31.2+k3s1" });
  });

  it("fills an existing group's freeze from its live view", () => {
    const live = { clusterGroups: [{ name: "edge", patterns: ["edge-*"], channel: "v1.30" }] };
    const policy = completed({ clusterGroups: [{ name: "edge", patterns: ["edge-*"], channel: "v1.31", freeze: { reason: "holiday" } }] }, { live });
    expect(policy.clusterGroups![0]!.freeze!.versions!.stable).toBe("v1.30.4+k3s1");
  });

  it("allows overlapping patterns that agree", () => {
    const draft = {
      clusterGroups: [
        { name: "a", patterns: ["prod-*"], channel: "stable" },
        { name: "b", patterns: ["*-eu"], channel: "stable" },
      ],
    };
    expect(problemsOf(draft)).toEqual([]);
  });

  it("allows an id in one group and another group's pattern", () => {
    const draft = {
      clusterGroups: [
        { name: "prod", patterns: ["prod-*"], channel: "stable" },
        { name: "pilot", clusters: ["prod-7"], channel: "latest" },
      ],
    };
    expect(problemsOf(draft)).toEqual([]);
  });

  it("drops the $schema key", () => {
    expect(completed({ $schema: "https://mirror.example/api/v1/policy/schema" })).toEqual({});
  });

  it("warns about a range with no published match", () => {
    const prepared = change({ channels: { old: { range: "<1.20.0" } } });
    expect(prepared.ok).toBe(true);
    expect(prepared.warnings).toEqual([{ field: "channels.old.range", message: 'no published, unblocked version is in range "<1.20.0"; the channel answers nothing until one is' }]);
  });

  it("warns about channels moved off a blocked version", () => {
    const prepared = change({ blocked: [{ version: "v1.31.2+k3s1", reason: "flannel regression" }] });
    expect(prepared.ok).toBe(true);
    expect(prepared.warnings.map((warning) => warning.field)).toEqual(["channels.latest", 'channels["v1.31"]']);
    expect(prepared.warnings[0]!.message).toBe("answers v1.31.1+k3s1 because v1.31.2+k3s1 is blocked (flannel regression)");
  });
});
