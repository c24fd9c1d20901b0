import { canonicalVersion, compareK3sVersions, parseVersion, type ParsedVersion } from "../versions";

/** A node's role in a K3s cluster. */
export type Role = "server" | "agent";

/** A node of a cluster with the version it runs. */
export type NodeVersion = { readonly name: string; readonly version: ParsedVersion };

/** The nodes of one cluster that count for skew decisions: stale nodes are left out. */
export type ClusterFacts = {
  readonly id: string;
  readonly servers: readonly NodeVersion[];
  readonly agents: readonly NodeVersion[];
};

/** The Kubernetes minor from which agents may lag three minors behind the servers, not two. */
export const AGENT_SKEW_WIDENED_AT_MINOR = 25;

/**
 * Returns how many minor versions an agent (kubelet) may lag behind the servers: 3, or 2
 * for kubelets older than v1.25 (the Kubernetes skew policy widened it with v1.28).
 */
export function maxAgentLagMinors(agent: ParsedVersion): number {
  return agent.major === 1 && agent.minor < AGENT_SKEW_WIDENED_AT_MINOR ? 2 : 3;
}

/** Parses a version in any accepted spelling (`+k3sN`, `%2Bk3sN`, `-k3sN`); null when it is not one. */
export function readVersion(input: string): ParsedVersion | null {
  const canonical = canonicalVersion(input);
  return canonical === null ? null : parseVersion(canonical);
}

export function isNewer(a: ParsedVersion, b: ParsedVersion): boolean {
  return compareK3sVersions(a, b) > 0;
}

export function isSameVersion(a: ParsedVersion, b: ParsedVersion): boolean {
  return compareK3sVersions(a, b) === 0;
}

export function newerOf(a: ParsedVersion, b: ParsedVersion): ParsedVersion {
  return isNewer(b, a) ? b : a;
}

/** The node running the oldest version, or null for an empty list. */
export function oldestNode(nodes: readonly NodeVersion[]): NodeVersion | null {
  let oldest: NodeVersion | null = null;
  for (const node of nodes) if (!oldest || isNewer(oldest.version, node.version)) oldest = node;
  return oldest;
}

/** The node running the newest version, or null for an empty list. */
export function newestNode(nodes: readonly NodeVersion[]): NodeVersion | null {
  let newest: NodeVersion | null = null;
  for (const node of nodes) if (!newest || isNewer(node.version, newest.version)) newest = node;
  return newest;
}

/** The lowest minor the servers may reach while every agent stays within its allowed lag. */
export function agentCap(agents: readonly NodeVersion[]): { readonly agent: NodeVersion; readonly maxServerMinor: number } | null {
  let cap: { agent: NodeVersion; maxServerMinor: number } | null = null;
  for (const agent of agents) {
    const maxServerMinor = agent.version.minor + maxAgentLagMinors(agent.version);
    if (!cap || maxServerMinor < cap.maxServerMinor) cap = { agent, maxServerMinor };
  }
  return cap;
}

/** How a move from one version to another goes backwards, or null when it does not. */
export type DowngradeLevel = "major" | "minor" | "patch" | "prerelease" | "build";

export function downgradeLevel(from: ParsedVersion, to: ParsedVersion): DowngradeLevel | null {
  if (!isNewer(from, to)) return null;
  if (to.major !== from.major) return "major";
  if (to.minor !== from.minor) return "minor";
  if (to.patch !== from.patch) return "patch";
  if (to.prerelease !== from.prerelease) return "prerelease";
  return "build";
}
