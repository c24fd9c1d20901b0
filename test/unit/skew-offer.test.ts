import { describe, expect, it } from "vitest";
import type { NodeVersion } from "../../src/skew/facts";
import { decideChannelOffer, describeHold, type ChannelOfferInput } from "../../src/skew/offer";
import { parseVersion, type ParsedVersion } from "../../src/versions";

const PUBLISHED = ["v1.28.15+k3s1", "v1.29.8+k3s1", "v1.29.9+k3s1", "v1.30.4+k3s1", "v1.30.5+k3s1", "v1.31.1-rc1+k3s1", "v1.31.2+k3s1", "v1.33.2+k3s1", "v1.33.6+k3s1", "v1.34.1+k3s1"];
const NOW = "2026-03-01T12:00:00.000Z";
const DAY_MS = 86_400_000;

function v(version: string): ParsedVersion {
  const parsed = parseVersion(version);
  if (!parsed) throw new Error(`bad test version ${version}`);
  return parsed;
}

function nodes(...entries: [string, string][]): NodeVersion[] {
  return entries.map(([name, version]) => ({ name, version: v(version) }));
}

function offer(overrides: Partial<ChannelOfferInput>): ReturnType<typeof decideChannelOffer> {
  return decideChannelOffer({
    channelVersion: "v1.31.2+k3s1",
    role: null,
    current: null,
    cluster: null,
    previousOffer: null,
    published: PUBLISHED,
    hopRules: [],
    dwellMs: DAY_MS,
    now: NOW,
    ...overrides,
  });
}

function cluster(servers: NodeVersion[], agents: NodeVersion[] = [], sucLatestVersion: string | null = null): ChannelOfferInput["cluster"] {
  return { id: "c1", servers, agents, sucLatestVersion: sucLatestVersion ? v(sucLatestVersion) : null };
}

describe("decideChannelOffer without a cluster", () => {
  it.each([
    // current, expected version, hold code
    [null, "v1.31.2+k3s1", null],
    ["v1.28.15+k3s1", "v1.29.9+k3s1", "one_minor_per_upgrade"],
    ["v1.29.8+k3s1", "v1.30.5+k3s1", "one_minor_per_upgrade"],
    ["v1.30.4+k3s1", "v1.31.2+k3s1", null],
    ["v1.31.2+k3s1", "v1.31.2+k3s1", null],
    ["v1.32.0+k3s1", "v1.32.0+k3s1", "caller_ahead"],
    ["v1.31.2+k3s2", "v1.31.2+k3s2", "caller_ahead"],
  ])("answers a server on %s with %s", (current, expected, hold) => {
    const decision = offer({ current: current ? v(current) : null });
    expect(decision.version).toBe(expected);
    expect(decision.hold ? describeHold(decision.hold).code : null).toBe(hold);
    expect(decision.store).toBeNull();
  });

  it("never steps through a pre-release", () => {
    const decision = offer({ channelVersion: "v1.32.0+k3s1", current: v("v1.30.5+k3s1"), published: [...PUBLISHED, "v1.32.0+k3s1"] });
    expect(decision.version).toBe("v1.31.2+k3s1");
  });

  it("takes a patch hop first when a hop rule asks for it", () => {
    const decision = offer({
      channelVersion: "v1.34.1+k3s1",
      current: v("v1.33.2+k3s1"),
      hopRules: [{ from: "v1.33", to: "v1.34", minimumSource: "v1.33.6+k3s1", reason: "etcd 3.5.26 before etcd 3.6" }],
    });
    expect(decision.version).toBe("v1.33.6+k3s1");
    expect(decision.hold?.kind).toBe("hop_minimum_source");
    expect(describeHold(decision.hold!).rule).toContain("etcd 3.5.26");
  });

  it("stays put when the next minor has no published release", () => {
    const decision = offer({ channelVersion: "v1.34.1+k3s1", current: v("v1.31.2+k3s1") });
    expect(decision.version).toBe("v1.31.2+k3s1");
    expect(decision.hold?.kind).toBe("no_published_hop");
  });
});

describe("decideChannelOffer for agents", () => {
  it.each([
    // servers, current, expected version, hold code
    [[["s1", "v1.29.9+k3s1"]], null, "v1.29.9+k3s1", "agent_follows_servers"],
    [[["s1", "v1.30.5+k3s1"], ["s2", "v1.29.8+k3s1"]], null, "v1.29.8+k3s1", "agent_follows_servers"],
    [[["s1", "v1.31.2+k3s1"]], "v1.28.15+k3s1", "v1.31.2+k3s1", null],
    [[["s1", "v1.29.9+k3s1"]], "v1.30.5+k3s1", "v1.30.5+k3s1", "agent_newer_than_servers"],
    [[], null, "v1.31.2+k3s1", "servers_unknown"],
  ] as [[string, string][], string | null, string, string | null][])("with servers %j and current %s answers %s", (servers, current, expected, hold) => {
    const decision = offer({ role: "agent", current: current ? v(current) : null, cluster: cluster(nodes(...servers)) });
    expect(decision.version).toBe(expected);
    expect(decision.hold ? describeHold(decision.hold).code : null).toBe(hold);
    expect(decision.store).toBeNull();
  });

  it("follows the cluster's offer when no server is known", () => {
    const decision = offer({ role: "agent", cluster: cluster([]), previousOffer: { version: "v1.30.5+k3s1", offeredAt: NOW } });
    expect(decision.version).toBe("v1.30.5+k3s1");
    expect(decision.hold).toBeNull();
  });
});

describe("decideChannelOffer for a cluster", () => {
  it("offers the first hop from the oldest server and stores it", () => {
    const decision = offer({ cluster: cluster(nodes(["s1", "v1.29.9+k3s1"], ["s2", "v1.28.15+k3s1"])) });
    expect(decision.version).toBe("v1.29.9+k3s1");
    expect(decision.store).toEqual({ version: "v1.29.9+k3s1", offeredAt: NOW });
  });

  it("holds the offer while a server is not on it", () => {
    const decision = offer({
      current: v("v1.30.5+k3s1"),
      cluster: cluster(nodes(["s1", "v1.30.5+k3s1"], ["s2", "v1.29.9+k3s1"])),
      previousOffer: { version: "v1.30.5+k3s1", offeredAt: "2020-01-01T00:00:00Z" },
    });
    expect(decision.version).toBe("v1.30.5+k3s1");
    expect(decision.hold).toMatchObject({ kind: "servers_not_on_offer", server: { name: "s2" } });
    expect(decision.store).toBeNull();
  });

  it("advances once every server runs the offer", () => {
    const decision = offer({
      cluster: cluster(nodes(["s1", "v1.30.5+k3s1"], ["s2", "v1.30.5+k3s1"])),
      previousOffer: { version: "v1.30.5+k3s1", offeredAt: NOW },
    });
    expect(decision.version).toBe("v1.31.2+k3s1");
    expect(decision.store?.version).toBe("v1.31.2+k3s1");
  });

  it.each([
    // reported by the Plan, offered how long ago, expected version, hold code
    [null, 2 * DAY_MS, "v1.30.5+k3s1", "waiting_for_plan"],
    ["v1.29.9+k3s1", 2 * DAY_MS, "v1.30.5+k3s1", "waiting_for_plan"],
    ["v1.30.5+k3s1", DAY_MS / 2, "v1.30.5+k3s1", "dwell"],
    ["v1.30.5+k3s1", DAY_MS, "v1.31.2+k3s1", null],
  ] as [string | null, number, string, string | null][])("without inventory, Plan on %s, offer %d ms old, answers %s", (reported, ageMs, expected, hold) => {
    const offeredAt = new Date(Date.parse(NOW) - ageMs).toISOString();
    const decision = offer({ cluster: cluster([], [], reported), previousOffer: { version: "v1.30.5+k3s1", offeredAt } });
    expect(decision.version).toBe(expected);
    expect(decision.hold ? describeHold(decision.hold).code : null).toBe(hold);
  });

  it("names the end of the dwell time", () => {
    const decision = offer({ cluster: cluster([], [], "v1.30.5+k3s1"), previousOffer: { version: "v1.30.5+k3s1", offeredAt: "2026-03-01T06:00:00.000Z" } });
    expect(decision.hold).toEqual(expect.objectContaining({ kind: "dwell", until: "2026-03-02T06:00:00.000Z" }));
  });

  it("gives a lagging Plan one hop, not the cluster's offer", () => {
    const decision = offer({
      current: v("v1.28.15+k3s1"),
      cluster: cluster(nodes(["s1", "v1.30.5+k3s1"])),
      previousOffer: { version: "v1.30.5+k3s1", offeredAt: NOW },
    });
    expect(decision.version).toBe("v1.29.9+k3s1");
    expect(decision.store?.version).toBe("v1.31.2+k3s1");
  });

  it("drops a stored offer above the channel's version", () => {
    const decision = offer({
      channelVersion: "v1.30.5+k3s1",
      cluster: cluster(nodes(["s1", "v1.29.9+k3s1"])),
      previousOffer: { version: "v1.31.2+k3s1", offeredAt: NOW },
    });
    expect(decision.version).toBe("v1.30.5+k3s1");
    expect(decision.store?.version).toBe("v1.30.5+k3s1");
  });

  it.each([
    // agent, expected answer for servers on v1.29.9
    ["v1.26.0+k3s1", "v1.29.9+k3s1"],
    ["v1.27.0+k3s1", "v1.30.5+k3s1"],
    ["v1.24.0+k3s1", "v1.29.9+k3s1"],
  ])("with agent %s keeps servers at %s", (agent, expected) => {
    const decision = offer({ cluster: cluster(nodes(["s1", "v1.29.9+k3s1"]), nodes(["a1", agent])) });
    expect(decision.version).toBe(expected);
    expect(decision.hold?.kind).toBe("agents_lag");
  });

  it("flags the channel's version as unchecked for an unknown cluster", () => {
    const decision = offer({ cluster: cluster([]) });
    expect(decision.version).toBe("v1.31.2+k3s1");
    expect(decision.hold?.kind).toBe("cluster_version_unknown");
    expect(decision.store).toEqual({ version: "v1.31.2+k3s1", offeredAt: NOW });
  });
});
