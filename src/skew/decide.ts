import type { ParsedVersion } from "../versions";
import { agentCap, downgradeLevel, isNewer, isSameVersion, maxAgentLagMinors, newestNode, oldestNode, readVersion, type ClusterFacts, type NodeVersion, type Role } from "./facts";
import { compileHopRules, unmetHopRule, type HopRule } from "./hop-rules";
import { buildLadder, hopCandidates, type LadderGap } from "./ladder";
import type { SkewReason } from "./reasons";

/** An upgrade or install to judge: who moves, from where, to what, in which cluster. */
export type UpgradeQuestion = {
  readonly role: Role;
  /** The installed version in any spelling, or null for a fresh install. */
  readonly current: string | null;
  /** The version to install, in any spelling. */
  readonly target: string;
  /** Fresh nodes of the cluster, or null when the cluster is unknown. */
  readonly cluster: ClusterFacts | null;
  /** The asking node's name, so that its own inventory row is not counted as another server. */
  readonly node: string | null;
  readonly published: Iterable<string>;
  readonly hopRules: readonly HopRule[];
};

export type SkewDecision = {
  readonly allowed: boolean;
  readonly reason: SkewReason;
  /** The target in canonical spelling, or null when it does not parse. */
  readonly target: string | null;
  /** Hops from the current version to the target, the target last; empty when there is no way up. */
  readonly ladder: readonly string[];
  readonly gap: LadderGap | null;
};

const allow = (reason: SkewReason, target: ParsedVersion, ladder: readonly ParsedVersion[]): SkewDecision => ({
  allowed: true,
  reason,
  target: target.raw,
  ladder: ladder.map((hop) => hop.raw),
  gap: null,
});

const deny = (reason: SkewReason, target: ParsedVersion | null, ladder: readonly ParsedVersion[] = [], gap: LadderGap | null = null): SkewDecision => ({
  allowed: false,
  reason,
  target: target?.raw ?? null,
  ladder: ladder.map((hop) => hop.raw),
  gap,
});

/**
 * Decides whether a node may move from its current version to a target under the skew
 * rules. Servers: no downgrade, one minor per upgrade, per-hop minimum sources, HA
 * servers within one minor, no agent left more than its allowed lag behind. Agents: no
 * downgrade, never newer than the oldest server, never more than 3 minors (2 before
 * v1.25) older than the newest server. The first rule that fails is the reason.
 *
 * @example decideUpgrade({ role: "server", current: "v1.18.20+k3s1", target: "v1.22.4+k3s1", ... })
 *   // denied, skipped_minor, ladder [v1.19.z, v1.20.z, v1.21.z, v1.22.4+k3s1]
 */
export function decideUpgrade(question: UpgradeQuestion): SkewDecision {
  const target = readVersion(question.target);
  if (!target) return deny({ kind: "unparseable_version", field: "target", input: question.target }, null);
  let current: ParsedVersion | null = null;
  if (question.current !== null) {
    current = readVersion(question.current);
    if (!current) return deny({ kind: "unparseable_version", field: "current", input: question.current }, target);
  }

  if (current) {
    if (current.major !== target.major) return deny({ kind: "major_change", from: current, to: target }, target);
    const downgrade = downgradeLevel(current, target);
    if (downgrade) return deny({ kind: "downgrade", level: downgrade, from: current, to: target }, target);
    if (isSameVersion(current, target)) return allow({ kind: "no_change", version: current }, target, []);
  }

  return question.role === "server" ? decideServer(question, current, target) : decideAgent(question, current, target);
}

function decideServer(question: UpgradeQuestion, current: ParsedVersion | null, target: ParsedVersion): SkewDecision {
  const rules = compileHopRules(question.hopRules);
  const ladder = current ? buildLadder(current, target, hopCandidates(question.published), rules) : { hops: [target], gap: null };

  if (current && target.minor - current.minor > 1) return deny({ kind: "skipped_minor", from: current, to: target, gap: ladder.gap }, target, ladder.hops, ladder.gap);
  if (current && target.minor === current.minor + 1) {
    const rule = unmetHopRule(rules, current, target.minor);
    if (rule) return deny({ kind: "hop_minimum_source", rule, from: current, to: target, gap: ladder.gap }, target, ladder.hops, ladder.gap);
  }

  const cluster = question.cluster;
  if (cluster) {
    const others = otherServers(cluster.servers, question.node, current);
    const farthest = farthestByMinor(others, target);
    if (farthest && Math.abs(farthest.version.minor - target.minor) > 1) return deny({ kind: "ha_server_skew", target, server: farthest }, target, ladder.hops);

    const newestAgent = newestNode(cluster.agents);
    if (!current && newestAgent && isNewer(newestAgent.version, target)) {
      return deny({ kind: "agent_newer_than_server", agent: newestAgent.version, server: { name: question.node ?? "(the new server)", version: target } }, target, ladder.hops);
    }

    const cap = agentCap(cluster.agents);
    if (cap && target.minor > cap.maxServerMinor) {
      return deny({ kind: "server_outpaces_agent", target, agent: cap.agent, maxLagMinors: maxAgentLagMinors(cap.agent.version) }, target, ladder.hops);
    }
  }

  const clusterKnown = cluster !== null && cluster.servers.length + cluster.agents.length > 0;
  if (!current) return allow({ kind: "fresh_install", role: "server", target, clusterKnown }, target, [target]);
  if (current.minor === target.minor) return allow({ kind: "patch_upgrade", from: current, to: target, clusterKnown }, target, [target]);
  return allow({ kind: "minor_upgrade", from: current, to: target, clusterKnown }, target, [target]);
}

function decideAgent(question: UpgradeQuestion, current: ParsedVersion | null, target: ParsedVersion): SkewDecision {
  const servers = question.cluster?.servers ?? [];
  const oldest = oldestNode(servers);
  const newest = newestNode(servers);

  if (oldest && isNewer(target, oldest.version)) return deny({ kind: "agent_newer_than_server", agent: target, server: oldest }, target);
  if (newest && newest.version.minor - target.minor > maxAgentLagMinors(target)) {
    return deny({ kind: "agent_too_old", agent: target, server: newest, maxLagMinors: maxAgentLagMinors(target) }, target);
  }

  const clusterKnown = oldest !== null;
  if (!current) return allow({ kind: "fresh_install", role: "agent", target, clusterKnown }, target, [target]);
  return allow({ kind: "agent_upgrade", from: current, to: target, clusterKnown }, target, [target]);
}

/**
 * The cluster's servers other than the asking node: by name when the node is named,
 * else one server on the node's current version is taken to be the node itself.
 */
function otherServers(servers: readonly NodeVersion[], node: string | null, current: ParsedVersion | null): NodeVersion[] {
  if (node !== null) return servers.filter((server) => server.name !== node);
  if (!current) return [...servers];
  const self = servers.findIndex((server) => isSameVersion(server.version, current));
  return self === -1 ? [...servers] : servers.filter((_, index) => index !== self);
}

function farthestByMinor(nodes: readonly NodeVersion[], target: ParsedVersion): NodeVersion | null {
  let farthest: NodeVersion | null = null;
  for (const node of nodes) {
    if (!farthest || Math.abs(node.version.minor - target.minor) > Math.abs(farthest.version.minor - target.minor)) farthest = node;
  }
  return farthest;
}
