import { describe, expect, it } from "vitest";
import { downgradeLevel, maxAgentLagMinors, readVersion } from "../../src/skew/facts";
import { classifyNodes, findViolations, nextSafeHop } from "../../src/skew/fleet";
import { compileHopRules, HopRuleList, HopRuleSchema, unmetHopRule } from "../../src/skew/hop-rules";
import { buildLadder, hopCandidates } from "../../src/skew/ladder";
import { parseVersion, type ParsedVersion } from "../../src/versions";

function v(version: string): ParsedVersion {
  const parsed = parseVersion(version);
  if (!parsed) throw new Error(`bad test version ${version}`);
  return parsed;
}

describe("readVersion", () => {
  it.each([
    ["v1.30.2-k3s1", "v1.30.2+k3s1"],
    ["v1.30.2%2Bk3s1", "v1.30.2+k3s1"],
    ["1.30.2+k3s3", "v1.30.2+k3s3"],
    ["v1.31.0-rc1-k3s1", "v1.31.0-rc1+k3s1"],
  ])("reads %s as %s", (input, expected) => {
    expect(readVersion(input)?.raw).toBe(expected);
  });

  it.each(["", "stable", "v1.30", "v1.30.2", "v1.30.2+rke2r1", "k3s version v1.30.2+k3s1 (abc)"])("returns null for %j", (input) => {
    expect(readVersion(input)).toBeNull();
  });
});

describe("downgradeLevel", () => {
  it.each([
    ["v1.30.2+k3s1", "v1.29.9+k3s1", "minor"],
    ["v1.30.2+k3s1", "v1.30.1+k3s1", "patch"],
    ["v1.30.2+k3s2", "v1.30.2+k3s1", "build"],
    ["v1.30.2+k3s1", "v1.30.2-rc1+k3s1", "prerelease"],
    ["v1.30.2-rc2+k3s1", "v1.30.2-rc1+k3s1", "prerelease"],
    ["v1.30.2+k3s1", "v1.30.2+k3s1", null],
    ["v1.30.2-rc1+k3s1", "v1.30.2+k3s1", null],
    ["v1.30.2+k3s1", "v1.31.0+k3s1", null],
  ])("from %s to %s is %s", (from, to, expected) => {
    expect(downgradeLevel(v(from), v(to))).toBe(expected);
  });
});

describe("maxAgentLagMinors", () => {
  it.each([
    ["v1.22.17+k3s1", 2],
    ["v1.24.17+k3s1", 2],
    ["v1.25.0+k3s1", 3],
    ["v1.33.6+k3s1", 3],
  ])("allows an agent on %s to lag %d minors", (agent, minors) => {
    expect(maxAgentLagMinors(v(agent))).toBe(minors);
  });
});

describe("HopRuleSchema", () => {
  it("normalises the spellings of a rule", () => {
    const parsed = HopRuleSchema.parse({ from: "1.33", to: "v1.34", minimumSource: "v1.33.6-k3s1", reason: " etcd 3.5.26 first " });
    expect(parsed).toEqual({ from: "v1.33", to: "v1.34", minimumSource: "v1.33.6+k3s1", reason: "etcd 3.5.26 first" });
    expect(HopRuleSchema.parse({ from: "v1.33", to: "v1.34", minimumSource: "1.33.6", reason: "x" }).minimumSource).toBe("v1.33.6+k3s1");
  });

  it.each([
    [{ from: "v1.33", to: "v1.35", minimumSource: "v1.33.6+k3s1", reason: "x" }, "minor after v1.33"],
    [{ from: "v1.33", to: "v1.34", minimumSource: "v1.32.6+k3s1", reason: "x" }, "must be a v1.33 version"],
    [{ from: "v1.33", to: "v1.34", minimumSource: "latest", reason: "x" }, "not a K3s version"],
    [{ from: "1.33.0", to: "v1.34", minimumSource: "v1.33.6+k3s1", reason: "x" }, "not a minor version"],
    [{ from: "v1.33", to: "v1.34", minimumSource: "v1.33.6+k3s1", reason: "  " }, "must say why"],
    [{ from: "v1.33", to: "v1.34", minimumSource: "v1.33.6+k3s1", reason: "x", extra: 1 }, "extra"],
  ])("rejects %j", (rule, message) => {
    const parsed = HopRuleList.safeParse([rule]);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error!.issues)).toContain(message);
  });
});

describe("unmetHopRule", () => {
  const rules = compileHopRules([
    { from: "v1.33", to: "v1.34", minimumSource: "v1.33.5+k3s1", reason: "first" },
    { from: "v1.33", to: "v1.34", minimumSource: "v1.33.6+k3s1", reason: "stricter" },
  ]);

  it("returns the strictest unmet rule for the hop", () => {
    expect(unmetHopRule(rules, v("v1.33.2+k3s1"), 34)?.reason).toBe("stricter");
    expect(unmetHopRule(rules, v("v1.33.5+k3s1"), 34)?.reason).toBe("stricter");
    expect(unmetHopRule(rules, v("v1.33.6+k3s1"), 34)).toBeNull();
  });

  it("ignores rules for other hops", () => {
    expect(unmetHopRule(rules, v("v1.32.0+k3s1"), 33)).toBeNull();
  });
});

describe("buildLadder", () => {
  const candidates = hopCandidates(["v1.28.15+k3s1", "v1.29.9+k3s1", "v1.29.10-rc1+k3s1", "v1.30.5+k3s1", "v1.30.6+k3s1", "not-a-version", "v1.31.2+k3s1"]);

  it.each([
    ["v1.28.15+k3s1", "v1.31.2+k3s1", ["v1.29.9+k3s1", "v1.30.6+k3s1", "v1.31.2+k3s1"]],
    ["v1.28.15+k3s1", "v1.30.5+k3s1", ["v1.29.9+k3s1", "v1.30.5+k3s1"]],
    ["v1.30.5+k3s1", "v1.30.6+k3s1", ["v1.30.6+k3s1"]],
    ["v1.30.5+k3s1", "v1.31.0-rc1+k3s1", ["v1.31.0-rc1+k3s1"]],
    ["v1.31.2+k3s1", "v1.31.2+k3s1", []],
    ["v1.31.2+k3s1", "v1.30.5+k3s1", []],
  ])("from %s to %s climbs %j", (from, to, hops) => {
    const ladder = buildLadder(v(from), v(to), candidates, []);
    expect(ladder.hops.map((hop) => hop.raw)).toEqual(hops);
    expect(ladder.gap).toBeNull();
  });
});

describe("fleet views", () => {
  const NOW = "2026-03-01T12:00:00.000Z";
  const HOUR_MS = 3_600_000;

  it("marks nodes stale after the configured period", () => {
    const { facts, nodes } = classifyNodes(
      "c1",
      [
        { name: "s1", role: "server", version: "v1.30.5+k3s1", lastSeenAt: "2026-03-01T11:00:00.000Z" },
        { name: "s2", role: "server", version: "v1.28.15+k3s1", lastSeenAt: "2026-02-20T11:00:00.000Z" },
        { name: "a1", role: "agent", version: null, lastSeenAt: NOW },
      ],
      NOW,
      24 * HOUR_MS,
    );
    expect(nodes.map((node) => [node.name, node.stale])).toEqual([
      ["s1", false],
      ["s2", true],
      ["a1", false],
    ]);
    expect(facts.servers.map((node) => node.name)).toEqual(["s1"]);
    expect(facts.agents).toEqual([]);
  });

  it("lists every broken rule with its nodes", () => {
    const node = (name: string, version: string) => ({ name, version: v(version) });
    const violations = findViolations({
      id: "c1",
      servers: [node("s1", "v1.31.2+k3s1"), node("s2", "v1.29.9+k3s1")],
      agents: [node("a-new", "v1.30.5+k3s1"), node("a-old", "v1.27.0+k3s1"), node("a-ok", "v1.29.9+k3s1")],
    });
    expect(violations.map((violation) => [violation.code, violation.nodes])).toEqual([
      ["ha_server_skew", ["s1", "s2"]],
      ["agent_newer_than_server", ["a-new", "s2"]],
      ["agent_too_old", ["a-old", "s1"]],
    ]);
  });

  it("computes the next safe hop from the oldest server", () => {
    const hop = nextSafeHop(
      { id: "c1", servers: [{ name: "s1", version: v("v1.28.15+k3s1") }], agents: [] },
      "stable",
      "v1.31.2+k3s1",
      ["v1.29.9+k3s1", "v1.30.5+k3s1", "v1.31.2+k3s1"],
      [],
      NOW,
    );
    expect(hop).toMatchObject({ from: "v1.28.15+k3s1", version: "v1.29.9+k3s1", heldBy: { code: "one_minor_per_upgrade" } });
    expect(nextSafeHop({ id: "c1", servers: [], agents: [] }, "stable", "v1.31.2+k3s1", [], [], NOW)).toBeNull();
  });
});
