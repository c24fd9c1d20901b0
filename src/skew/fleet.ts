import { agentCap, isNewer, maxAgentLagMinors, newestNode, oldestNode, readVersion, type ClusterFacts, type NodeVersion, type Role } from "./facts";
import type { HopRule } from "./hop-rules";
import { decideChannelOffer, describeHold, type OfferHold } from "./offer";
import { describeReason, type SkewReason } from "./reasons";

/** A node as the inventory stores it. */
export type InventoryNode = {
  readonly name: string;
  readonly role: Role;
  readonly version: string | null;
  readonly lastSeenAt: string;
};

/** A node with whether it counts for skew decisions. */
export type NodeStatus = InventoryNode & { readonly stale: boolean };

/**
 * Marks nodes not seen within `staleAfterMs` of `now` as stale, and returns the cluster's
 * fresh nodes with parsed versions. Nodes without a parseable version are left out.
 */
export function classifyNodes(clusterId: string, nodes: readonly InventoryNode[], now: string, staleAfterMs: number): { facts: ClusterFacts; nodes: NodeStatus[] } {
  const nowMs = Date.parse(now);
  const servers: NodeVersion[] = [];
  const agents: NodeVersion[] = [];
  const statuses: NodeStatus[] = [];
  for (const node of nodes) {
    const stale = !(nowMs - Date.parse(node.lastSeenAt) < staleAfterMs);
    statuses.push({ ...node, stale });
    const version = node.version === null ? null : readVersion(node.version);
    if (stale || !version) continue;
    (node.role === "server" ? servers : agents).push({ name: node.name, version });
  }
  return { facts: { id: clusterId, servers, agents }, nodes: statuses };
}

/** A rule the cluster's fresh nodes break right now. */
export type Violation = { readonly code: string; readonly rule: string; readonly message: string; readonly nodes: readonly string[] };

/** Lists the skew rules that the fresh nodes of a cluster break, each with the nodes involved. */
export function findViolations(facts: ClusterFacts): Violation[] {
  const violations: Violation[] = [];
  const add = (reason: SkewReason, nodes: string[]) => violations.push({ ...describeReason(reason), nodes });

  const oldest = oldestNode(facts.servers);
  const newest = newestNode(facts.servers);
  if (oldest && newest && newest.version.minor - oldest.version.minor > 1) add({ kind: "ha_server_skew", target: newest.version, server: oldest }, [newest.name, oldest.name]);

  for (const agent of facts.agents) {
    if (oldest && isNewer(agent.version, oldest.version)) add({ kind: "agent_newer_than_server", agent: agent.version, server: oldest }, [agent.name, oldest.name]);
    const lag = maxAgentLagMinors(agent.version);
    if (newest && newest.version.minor - agent.version.minor > lag) add({ kind: "agent_too_old", agent: agent.version, server: newest, maxLagMinors: lag }, [agent.name, newest.name]);
  }
  return violations;
}

/** The next version a cluster's servers may move to on the way to a channel's version. */
export type NextHop = {
  readonly channel: string;
  readonly channelVersion: string;
  readonly from: string | null;
  readonly version: string;
  readonly heldBy: { readonly code: string; readonly rule: string; readonly message: string } | null;
};

/**
 * Computes the next safe hop for a cluster's servers towards `channelVersion`: the first
 * hop from the oldest fresh server, limited by the agents' allowed lag. Returns null when
 * the cluster has no fresh server.
 */
export function nextSafeHop(facts: ClusterFacts, channel: string, channelVersion: string, published: Iterable<string>, hopRules: readonly HopRule[], now: string): NextHop | null {
  const oldest = oldestNode(facts.servers);
  if (!oldest) return null;
  const decision = decideChannelOffer({
    channelVersion,
    role: "server",
    current: oldest.version,
    cluster: { ...facts, sucLatestVersion: null },
    previousOffer: null,
    published,
    hopRules,
    dwellMs: 0,
    now,
  });
  return { channel, channelVersion, from: oldest.version.raw, version: decision.version, heldBy: describeOptionalHold(decision.hold) };
}

function describeOptionalHold(hold: OfferHold | null) {
  return hold ? describeHold(hold) : null;
}

/** Returns the agent lag limit in force for a cluster: the highest minor its servers may reach. */
export function serverMinorLimit(facts: ClusterFacts): { agent: string; maxServerMinor: string } | null {
  const cap = agentCap(facts.agents);
  return cap ? { agent: cap.agent.name, maxServerMinor: `v${cap.agent.version.major}.${cap.maxServerMinor}` } : null;
}
