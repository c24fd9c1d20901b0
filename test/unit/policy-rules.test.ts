import { describe, expect, it } from "vitest";
import { findBlock, isBlocked } from "../../src/policy/blocked";
import { findClusterGroup, globMatches, globsOverlap } from "../../src/policy/clusters";
import { diffPolicies } from "../../src/policy/diff";
import { fieldPath, parsePolicyDocument, PolicyDocument, policyJsonSchema } from "../../src/policy/schema";

describe("isBlocked", () => {
  const policy = PolicyDocument.parse({
    blocked: [
      { version: "v1.30.3+k3s1", reason: "bad build" },
      { range: ">=1.31.0 <1.31.2", reason: "CVE in containerd" },
    ],
  });

  const cases: Array<[string, boolean]> = [
    ["v1.30.3+k3s1", true],
    ["v1.30.3-k3s1", true],
    ["v1.30.3%2Bk3s1", true],
    ["v1.30.3+k3s2", false],
    ["v1.31.0+k3s1", true],
    ["v1.31.1+k3s3", true],
    ["v1.31.1-rc1+k3s1", true],
    ["v1.31.2+k3s1", false],
    ["v1.29.9+k3s1", false],
    ["stable", false],
  ];
  for (const [version, expected] of cases) {
    it(`${expected ? "blocks" : "allows"} ${version}`, () => {
      expect(isBlocked(policy, version)).toBe(expected);
    });
  }

  it("returns the reason and the rule of the matching entry", () => {
    expect(findBlock(policy, "v1.31.1+k3s1")).toEqual({ version: "v1.31.1+k3s1", reason: "CVE in containerd", rule: ">=1.31.0 <1.31.2" });
  });

  it("blocks nothing under an empty policy", () => {
    expect(isBlocked({}, "v1.30.3+k3s1")).toBe(false);
  });
});

describe("globMatches", () => {
  const cases: Array<[string, string, boolean]> = [
    ["edge-*", "edge-1", true],
    ["edge-*", "edge-", true],
    ["edge-*", "core-1", false],
    ["*-eu-*", "shop-eu-2", true],
    ["*-eu-*", "shop-us-2", false],
    ["store-??", "store-12", true],
    ["store-??", "store-1", false],
    ["a*b*c", "aXbYbZc", true],
    ["a*b*c", "aXbYbZ", false],
    ["exact", "exact", true],
    ["exact", "exactly", false],
  ];
  for (const [pattern, id, expected] of cases) {
    it(`${expected ? "matches" : "does not match"} ${id} with ${pattern}`, () => {
      expect(globMatches(pattern, id)).toBe(expected);
    });
  }
});

describe("globsOverlap", () => {
  const cases: Array<[string, string, boolean]> = [
    ["prod-*", "*-eu", true],
    ["prod-*", "dev-*", false],
    ["shop-?", "shop-1*", true],
    ["shop-?", "shop-12", false],
    ["*x", "*y", false],
    ["*", "anything", true],
    ["a?c", "ab?", true],
    ["a?c", "b??", false],
  ];
  for (const [a, b, expected] of cases) {
    it(`${expected ? "finds" : "rules out"} an id matching ${a} and ${b}`, () => {
      expect(globsOverlap(a, b)).toBe(expected);
      expect(globsOverlap(b, a)).toBe(expected);
    });
  }
});

describe("findClusterGroup", () => {
  const policy = PolicyDocument.parse({
    clusterGroups: [
      { name: "prod", patterns: ["prod-*"], channel: "stable" },
      { name: "pilot", clusters: ["prod-7"], channel: "latest" },
    ],
  });

  it("prefers an exact id over a pattern", () => {
    expect(findClusterGroup(policy, "prod-7")?.group.name).toBe("pilot");
  });

  it("falls back to the first matching pattern", () => {
    expect(findClusterGroup(policy, "prod-8")).toMatchObject({ group: { name: "prod" }, matchedBy: { kind: "pattern", pattern: "prod-*" } });
  });

  it("returns null without a cluster id", () => {
    expect(findClusterGroup(policy, null)).toBeNull();
  });
});

function problemsOf(parsed: ReturnType<typeof parsePolicyDocument>) {
  return parsed.ok ? [] : parsed.problems;
}

describe("PolicyDocument", () => {
  it("rejects unknown fields with their path", () => {
    const parsed = parsePolicyDocument({ channels: { stable: { pinned: "v1.30.1+k3s1" } } });
    expect(parsed).toEqual({ ok: false, problems: [{ field: "channels.stable", message: "unknown field(s) pinned" }] });
  });

  it("rejects two rules on one channel", () => {
    const parsed = parsePolicyDocument({ channels: { stable: { pin: "v1.30.1+k3s1", follow: "latest" } } });
    expect(parsed.ok).toBe(false);
    expect(problemsOf(parsed)[0]).toEqual({ field: "channels.stable.pin", message: "cannot be combined with follow; a channel has at most one of follow, pin, range, hide" });
  });

  it.each([
    ["a blocked reason", { blocked: [{ version: "v1.30.1+k3s1", reason: 'breaks "kubectl"' }] }, "blocked[0].reason"],
    ["a hop rule reason", { hopRules: [{ from: "v1.33", to: "v1.34", minimumSource: "v1.33.6+k3s1", reason: "etcd\\3.6" }] }, "hopRules[0].reason"],
    ["a freeze reason", { freeze: { reason: "line one\nline two" } }, "freeze.reason"],
  ])("rejects quotes, backslashes and control characters in %s", (_label, document, field) => {
    const parsed = parsePolicyDocument(document);
    expect(parsed.ok).toBe(false);
    expect(problemsOf(parsed)[0]?.field).toBe(field);
    expect(problemsOf(parsed)[0]?.message).toContain("without double quotes or backslashes");
  });

  it("accepts a reason with single quotes", () => {
    expect(parsePolicyDocument({ blocked: [{ version: "v1.30.1+k3s1", reason: "breaks 'kubectl logs'" }] }).ok).toBe(true);
  });

  it("rejects a version that is not exact", () => {
    const parsed = parsePolicyDocument({ channels: { stable: { pin: "1.30" } } });
    expect(parsed.ok).toBe(false);
    expect(problemsOf(parsed)[0]).toEqual({ field: "channels.stable.pin", message: '"1.30" is not an exact K3s version; write it like v1.33.6+k3s1' });
  });

  it("rejects an invalid range", () => {
    const parsed = parsePolicyDocument({ blocked: [{ range: "not a range", reason: "x" }] });
    expect(parsed.ok).toBe(false);
    expect(problemsOf(parsed)[0]!.field).toBe("blocked[0].range");
  });

  it("rejects a blocked entry with both version and range", () => {
    const parsed = parsePolicyDocument({ blocked: [{ version: "v1.30.1+k3s1", range: "1.30.x", reason: "x" }] });
    expect(parsed.ok).toBe(false);
    expect(problemsOf(parsed)[0]!.message).toBe("give exactly one of version or range");
  });

  it("rejects a group with no clusters", () => {
    const parsed = parsePolicyDocument({ clusterGroups: [{ name: "empty", channel: "stable" }] });
    expect(parsed.ok).toBe(false);
    expect(problemsOf(parsed)[0]).toEqual({ field: "clusterGroups[0].clusters", message: "a group needs at least one cluster id or pattern" });
  });

  it("accepts hop rules for the skew checks", () => {
    const parsed = parsePolicyDocument({ hopRules: [{ from: "v1.33", to: "v1.34", minimumSource: "v1.33.6+k3s1", reason: "etcd 3.6 needs etcd 3.5.26 first" }] });
    expect(parsed.ok).toBe(true);
  });

  it("rejects a hop rule that skips a minor", () => {
    const parsed = parsePolicyDocument({ hopRules: [{ from: "v1.33", to: "v1.35", minimumSource: "v1.33.6+k3s1", reason: "x" }] });
    expect(parsed.ok).toBe(false);
    expect(problemsOf(parsed)[0]!.field).toBe("hopRules[0].to");
  });

  it("rejects a freeze without reason", () => {
    const parsed = parsePolicyDocument({ freeze: {} });
    expect(parsed.ok).toBe(false);
    expect(problemsOf(parsed)[0]!.field).toBe("freeze.reason");
  });

  it("exports a JSON Schema that names every top-level field", () => {
    const schema = policyJsonSchema() as { type: string; properties: Record<string, unknown>; additionalProperties: boolean };
    expect(schema.type).toBe("object");
    expect(Object.keys(schema.properties).sort()).toEqual(["$schema", "blocked", "channels", "clusterGroups", "defaultChannel", "freeze", "hopRules"]);
    expect(schema.additionalProperties).toBe(false);
  });
});

describe("fieldPath", () => {
  it("quotes keys that are not identifiers", () => {
    expect(fieldPath(["channels", "v1.30", "pin"])).toBe('channels["v1.30"].pin');
    expect(fieldPath(["clusterGroups", 2, "patterns", 0])).toBe("clusterGroups[2].patterns[0]");
    expect(fieldPath([])).toBe("(document)");
  });
});

describe("diffPolicies", () => {
  it("lists added, removed and changed paths", () => {
    const from = { defaultChannel: "stable", channels: { stable: { pin: "v1.30.1+k3s1" } }, blocked: [{ version: "v1.30.2+k3s1", reason: "x" }] };
    const to = { channels: { stable: { pin: "v1.30.3+k3s1" }, lts: { range: "~1.29" } }, blocked: [{ version: "v1.30.2+k3s1", reason: "x" }] };
    expect(diffPolicies(from, to)).toEqual([
      { op: "remove", path: "defaultChannel", oldValue: "stable" },
      { op: "change", path: "channels.stable.pin", oldValue: "v1.30.1+k3s1", value: "v1.30.3+k3s1" },
      { op: "add", path: "channels.lts", value: { range: "~1.29" } },
    ]);
  });
});
