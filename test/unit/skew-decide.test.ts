import { describe, expect, it } from "vitest";
import { decideUpgrade, type UpgradeQuestion } from "../../src/skew/decide";
import type { ClusterFacts, NodeVersion } from "../../src/skew/facts";
import type { HopRule } from "../../src/skew/hop-rules";
import { describeReason } from "../../src/skew/reasons";
import { parseVersion } from "../../src/versions";

const PUBLISHED = [
  "v1.18.20+k3s1",
  "v1.19.15+k3s2",
  "v1.19.16+k3s1",
  "v1.20.14+k3s1",
  "v1.20.15+k3s1",
  "v1.21.13+k3s1",
  "v1.21.14+k3s1",
  "v1.21.15-rc1+k3s1",
  "v1.22.4+k3s1",
  "v1.22.17+k3s1",
  "v1.24.17+k3s1",
  "v1.25.16+k3s4",
  "v1.28.15+k3s1",
  "v1.29.9+k3s1",
  "v1.30.5+k3s1",
  "v1.33.2+k3s1",
  "v1.33.5+k3s1",
  "v1.33.6+k3s1",
  "v1.34.1+k3s1",
];

const ETCD_RULE: HopRule = { from: "v1.33", to: "v1.34", minimumSource: "v1.33.6+k3s1", reason: "embedded etcd moves from 3.5 to 3.6, which needs etcd 3.5.26 first" };

function node(name: string, version: string): NodeVersion {
  const parsed = parseVersion(version);
  if (!parsed) throw new Error(`bad test version ${version}`);
  return { name, version: parsed };
}

function cluster(servers: [string, string][], agents: [string, string][] = []): ClusterFacts {
  return { id: "c1", servers: servers.map(([name, version]) => node(name, version)), agents: agents.map(([name, version]) => node(name, version)) };
}

function ask(overrides: Partial<UpgradeQuestion> & Pick<UpgradeQuestion, "target">): UpgradeQuestion {
  return { role: "server", current: null, cluster: null, node: null, published: PUBLISHED, hopRules: [ETCD_RULE], ...overrides };
}

describe("decideUpgrade for one server", () => {
  it.each([
    // current, target, allowed, reason code
    ["v1.20.14+k3s1", "v1.20.15+k3s1", true, "patch_upgrade"],
    ["v1.20.15+k3s1", "v1.21.14+k3s1", true, "minor_upgrade"],
    ["v1.20.15+k3s1", "v1.20.15+k3s1", true, "no_change"],
    ["v1.20.15-k3s1", "v1.20.15%2Bk3s1", true, "no_change"],
    ["v1.21.14+k3s1", "v1.20.15+k3s1", false, "downgrade_minor"],
    ["v1.20.15+k3s1", "v1.20.14+k3s1", false, "downgrade_patch"],
    ["v1.25.16+k3s4", "v1.25.16+k3s1", false, "downgrade_build"],
    ["v1.21.15+k3s1", "v1.21.15-rc1+k3s1", false, "downgrade_prerelease"],
    ["v1.21.14+k3s1", "v1.21.15-rc1+k3s1", true, "patch_upgrade"],
    ["v1.20.15+k3s1", "v1.22.4+k3s1", false, "skipped_minor"],
    ["v1.28.15+k3s1", "v1.30.5+k3s1", false, "skipped_minor"],
    ["v1.33.2+k3s1", "v1.34.1+k3s1", false, "hop_minimum_source"],
    ["v1.33.6+k3s1", "v1.34.1+k3s1", true, "minor_upgrade"],
    ["v1.30.5+k3s1", "v2.0.0+k3s1", false, "major_change"],
  ])("judges %s to %s", (current, target, allowed, code) => {
    const decision = decideUpgrade(ask({ current, target }));
    expect(decision.allowed).toBe(allowed);
    expect(describeReason(decision.reason).code).toBe(code);
  });

  it("refuses a four-minor jump with the ladder of newest patches", () => {
    const decision = decideUpgrade(ask({ current: "v1.18.20+k3s1", target: "v1.22.4+k3s1" }));
    expect(decision.allowed).toBe(false);
    expect(decision.reason.kind).toBe("skipped_minor");
    expect(decision.ladder).toEqual(["v1.19.16+k3s1", "v1.20.15+k3s1", "v1.21.14+k3s1", "v1.22.4+k3s1"]);
    expect(decision.target).toBe("v1.22.4+k3s1");
  });

  it("prefers the newer K3s build of the same patch on a ladder", () => {
    const decision = decideUpgrade(ask({ current: "v1.18.20+k3s1", target: "v1.20.15+k3s1", published: ["v1.19.16+k3s1", "v1.19.16+k3s3", "v1.19.16+k3s2"] }));
    expect(decision.ladder).toEqual(["v1.19.16+k3s3", "v1.20.15+k3s1"]);
  });

  it("climbs a patch first for a hop rule", () => {
    const decision = decideUpgrade(ask({ current: "v1.33.2+k3s1", target: "v1.34.1+k3s1" }));
    expect(decision.ladder).toEqual(["v1.33.6+k3s1", "v1.34.1+k3s1"]);
    expect(describeReason(decision.reason).rule).toContain("etcd 3.5.26");
    expect(describeReason(decision.reason).rule).toContain("v1.33.6+k3s1");
  });

  it("stops the ladder where no release is published", () => {
    const decision = decideUpgrade(ask({ current: "v1.22.17+k3s1", target: "v1.25.16+k3s4" }));
    expect(decision.allowed).toBe(false);
    expect(decision.ladder).toEqual([]);
    expect(decision.gap).toEqual({ kind: "no_published_release", minor: "v1.23" });
    expect(describeReason(decision.reason).message).toContain("no published v1.23 release");
  });

  it("reports a hop rule no published release meets", () => {
    const decision = decideUpgrade(ask({ current: "v1.33.2+k3s1", target: "v1.34.1+k3s1", published: ["v1.33.2+k3s1", "v1.33.5+k3s1", "v1.34.1+k3s1"] }));
    expect(decision.gap?.kind).toBe("no_release_meets_hop_rule");
    expect(decision.ladder).toEqual([]);
  });

  it.each([
    ["target", "v1.20.15+k3s1", "stable"],
    ["current", "1.20", "v1.20.15+k3s1"],
    ["current", "v1.20.15+rke2r1", "v1.20.15+k3s1"],
  ])("rejects an unparseable %s", (field, current, target) => {
    const decision = decideUpgrade(ask({ current, target }));
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toMatchObject({ kind: "unparseable_version", field });
    expect(describeReason(decision.reason).message).toContain("v1.33.6+k3s1");
  });

  it("allows a fresh install with the target as its ladder", () => {
    const decision = decideUpgrade(ask({ target: "v1.22.4-k3s1" }));
    expect(decision).toMatchObject({ allowed: true, target: "v1.22.4+k3s1", ladder: ["v1.22.4+k3s1"] });
    expect(decision.reason.kind).toBe("fresh_install");
  });
});

describe("decideUpgrade for servers in a cluster", () => {
  it("rejects an upgrade that leaves another HA server two minors behind", () => {
    const decision = decideUpgrade(ask({ current: "v1.29.9+k3s1", target: "v1.30.5+k3s1", cluster: cluster([["s1", "v1.29.9+k3s1"], ["s2", "v1.28.15+k3s1"]]) }));
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toMatchObject({ kind: "ha_server_skew" });
    expect(describeReason(decision.reason).message).toContain("s2");
  });

  it("does not count the asking node against itself", () => {
    const facts = cluster([["s1", "v1.29.9+k3s1"], ["s2", "v1.29.9+k3s1"]]);
    expect(decideUpgrade(ask({ current: "v1.29.9+k3s1", target: "v1.30.5+k3s1", cluster: facts })).allowed).toBe(true);
    expect(decideUpgrade(ask({ current: "v1.29.9+k3s1", target: "v1.30.5+k3s1", cluster: facts, node: "s1" })).allowed).toBe(true);
  });

  it("rejects a new server more than one minor from the others", () => {
    const decision = decideUpgrade(ask({ target: "v1.30.5+k3s1", cluster: cluster([["s1", "v1.28.15+k3s1"]]) }));
    expect(decision.reason.kind).toBe("ha_server_skew");
  });

  it("rejects a new server older than an agent", () => {
    const decision = decideUpgrade(ask({ target: "v1.29.9+k3s1", cluster: cluster([["s1", "v1.30.5+k3s1"]], [["a1", "v1.30.5+k3s1"]]) }));
    expect(decision.reason.kind).toBe("agent_newer_than_server");
  });

  it.each([
    // agent version, server target, allowed
    ["v1.25.16+k3s4", "v1.28.15+k3s1", true],
    ["v1.25.16+k3s4", "v1.29.9+k3s1", false],
    ["v1.24.17+k3s1", "v1.26.0+k3s1", true],
    ["v1.24.17+k3s1", "v1.27.0+k3s1", false],
  ])("with agent %s judges servers moving to %s", (agent, target, allowed) => {
    const current = `v1.${Number(target.split(".")[1]) - 1}.0+k3s1`;
    const decision = decideUpgrade(ask({ current, target, cluster: cluster([["s1", current]], [["a1", agent]]), hopRules: [] }));
    expect(decision.allowed).toBe(allowed);
    if (!allowed) expect(decision.reason.kind).toBe("server_outpaces_agent");
  });
});

describe("decideUpgrade for agents", () => {
  const servers = cluster([["s1", "v1.20.0+k3s2"], ["s2", "v1.20.5+k3s1"]]);

  it.each([
    // current, target, allowed, reason code
    [null, "v1.20.0+k3s2", true, "fresh_install"],
    [null, "v1.20.5+k3s1", false, "agent_newer_than_server"],
    [null, "v1.20.0+k3s3", false, "agent_newer_than_server"],
    [null, "v1.18.20+k3s1", true, "fresh_install"],
    [null, "v1.17.17+k3s1", false, "agent_too_old"],
    ["v1.18.20+k3s1", "v1.20.0+k3s2", true, "agent_upgrade"],
    ["v1.20.0+k3s2", "v1.19.16+k3s1", false, "downgrade_minor"],
  ])("from %s judges %s", (current, target, allowed, code) => {
    const decision = decideUpgrade(ask({ role: "agent", current, target, cluster: servers }));
    expect(decision.allowed).toBe(allowed);
    expect(describeReason(decision.reason).code).toBe(code);
  });

  it("allows three minors of lag from v1.25 on, two before", () => {
    const at = (server: string) => cluster([["s1", server]]);
    expect(decideUpgrade(ask({ role: "agent", target: "v1.25.16+k3s4", cluster: at("v1.28.15+k3s1") })).allowed).toBe(true);
    expect(decideUpgrade(ask({ role: "agent", target: "v1.24.17+k3s1", cluster: at("v1.27.0+k3s1") })).allowed).toBe(false);
    expect(decideUpgrade(ask({ role: "agent", target: "v1.24.17+k3s1", cluster: at("v1.26.0+k3s1") })).allowed).toBe(true);
  });

  it("says so when no server of the cluster is known", () => {
    const decision = decideUpgrade(ask({ role: "agent", target: "v1.30.5+k3s1", cluster: cluster([]) }));
    expect(decision.allowed).toBe(true);
    expect(describeReason(decision.reason).message).toContain("no fresh inventory");
  });
});
