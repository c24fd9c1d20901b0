import { DEFAULT_ARCH, type Config } from "../config";
import { isBlocked } from "../policy/blocked";
import { EMPTY_POLICY } from "../policy/schema";
import { getCluster, getClusterOffer, listNodes, putClusterOfferStatement, recordSucVersionStatement, touchClusterStatement, type StoredCluster } from "../storage/inventory";
import { getLivePolicyRevision } from "../storage/policy";
import { listPublishedVersions } from "../storage/publications";
import { partialVersion, type ParsedVersion } from "../versions";
import { decideUpgrade, type SkewDecision } from "./decide";
import { oldestNode, readVersion, type ClusterFacts, type Role } from "./facts";
import { classifyNodes, type NodeStatus } from "./fleet";
import type { HopRule } from "./hop-rules";
import { hopCandidates } from "./ladder";
import { decideChannelOffer, type ChannelOfferDecision } from "./offer";

/** Inputs of every skew decision, read from the policy and the publications. */
export type SkewInputs = {
  /** Versions published for the default architecture and not blocked by the policy. */
  readonly published: string[];
  readonly hopRules: HopRule[];
};

/** Reads the published versions (minus policy-blocked ones) and the policy's hop rules. */
export async function readSkewInputs(db: D1Database): Promise<SkewInputs> {
  const [published, revision] = await Promise.all([listPublishedVersions(db, DEFAULT_ARCH), getLivePolicyRevision(db)]);
  const document = revision?.document ?? EMPTY_POLICY;
  return {
    published: [...published].filter((version) => !isBlocked(document, version)),
    hopRules: document.hopRules ?? [],
  };
}

/** A cluster as the inventory shows it now: its row, every node with a stale flag, and the fresh ones. */
export type ClusterInventory = { readonly cluster: StoredCluster | null; readonly nodes: NodeStatus[]; readonly facts: ClusterFacts };

export async function readClusterInventory(db: D1Database, clusterId: string, config: Pick<Config, "nodeStaleAfterMs">, now: string): Promise<ClusterInventory> {
  const [cluster, nodes] = await Promise.all([getCluster(db, clusterId), listNodes(db, clusterId)]);
  const classified = classifyNodes(clusterId, nodes, now, config.nodeStaleAfterMs);
  return { cluster, nodes: classified.nodes, facts: classified.facts };
}

/** A channel lookup as the skew rules see it. */
export type SkewLookup = {
  readonly channel: string;
  /** The version the channel and the policy offer this caller. */
  readonly channelVersion: string;
  readonly clusterId: string | null;
  readonly role: Role | null;
  /** The caller's version from X-SUC-Latest-Version or `current`, canonical spelling. */
  readonly current: string | null;
  /** Whether `current` came from system-upgrade-controller's X-SUC-Latest-Version header. */
  readonly fromUpgradeController: boolean;
};

/**
 * Decides a channel lookup under the skew rules, in three steps: record the cluster (and
 * the Plan's reported version) in the inventory, decide with `decideChannelOffer`, and
 * store the cluster's new offer. Lookups that name neither a cluster, a current version
 * nor the agent role get the channel's version without touching D1.
 */
export async function decideChannelLookup(db: D1Database, config: Pick<Config, "nodeStaleAfterMs" | "skewHopDwellMs">, lookup: SkewLookup, now: string): Promise<ChannelOfferDecision> {
  if (lookup.clusterId === null && lookup.current === null && lookup.role !== "agent") return { version: lookup.channelVersion, hold: null, store: null };

  const clusterId = lookup.clusterId;
  if (clusterId !== null) {
    const reportsPlanVersion = lookup.fromUpgradeController && lookup.current !== null && lookup.role !== "agent";
    await (reportsPlanVersion ? recordSucVersionStatement(db, clusterId, lookup.current!, now) : touchClusterStatement(db, clusterId, now)).run();
  }

  const [inputs, inventory, previousOffer] = await Promise.all([
    readSkewInputs(db),
    clusterId === null ? null : readClusterInventory(db, clusterId, config, now),
    clusterId === null ? null : getClusterOffer(db, clusterId, lookup.channel),
  ]);
  const decision = decideChannelOffer({
    channelVersion: lookup.channelVersion,
    role: lookup.role,
    current: lookup.current === null ? null : readVersion(lookup.current),
    cluster: inventory ? { ...inventory.facts, sucLatestVersion: inventory.cluster?.sucLatestVersion ? readVersion(inventory.cluster.sucLatestVersion) : null } : null,
    previousOffer,
    published: inputs.published,
    hopRules: inputs.hopRules,
    dwellMs: config.skewHopDwellMs,
    now,
  });

  if (clusterId !== null && decision.store) await putClusterOfferStatement(db, clusterId, lookup.channel, decision.store).run();
  return decision;
}

/** A preflight request, validated but with versions still as the caller spelled them. */
export type PreflightQuestion = {
  readonly clusterId: string | null;
  readonly node: string | null;
  readonly role: Role;
  readonly current: string | null;
  readonly target: string | null;
};

/** Problem that keeps a preflight request from a decision; the route returns it as 400. */
export type PreflightProblem =
  | { readonly kind: "target_missing"; readonly clusterId: string | null }
  | { readonly kind: "target_unpublished"; readonly target: string; readonly available: string[] };

/**
 * Decides a preflight request against the inventory, the published versions and the
 * policy's hop rules. An agent that names no target gets its cluster's oldest fresh
 * server version as the target. A target without build suffix (`v1.22.4`) means the
 * newest published build of that patch.
 */
export async function runPreflight(
  db: D1Database,
  config: Pick<Config, "nodeStaleAfterMs">,
  question: PreflightQuestion,
  now: string,
): Promise<{ ok: true; decision: SkewDecision } | { ok: false; problem: PreflightProblem }> {
  const [inputs, inventory] = await Promise.all([
    readSkewInputs(db),
    question.clusterId === null ? null : readClusterInventory(db, question.clusterId, config, now),
  ]);

  let target = question.target;
  if (target === null) {
    const oldest = question.role === "agent" ? oldestNode(inventory?.facts.servers ?? []) : null;
    if (!oldest) return { ok: false, problem: { kind: "target_missing", clusterId: question.clusterId } };
    target = oldest.version.raw;
  } else if (readVersion(target) === null && partialVersion(target) !== null) {
    const prefix = partialVersion(target)!;
    const builds = newestBuildOf(prefix, inputs.published);
    if (!builds.match) return { ok: false, problem: { kind: "target_unpublished", target: prefix, available: builds.sameMinor } };
    target = builds.match.raw;
  }

  const decision = decideUpgrade({
    role: question.role,
    current: question.current,
    target,
    cluster: inventory?.facts ?? null,
    node: question.node,
    published: inputs.published,
    hopRules: inputs.hopRules,
  });
  return { ok: true, decision };
}

/** Finds the newest published `+k3sN` build of a `vX.Y.Z[-pre]` prefix, and the published versions of its minor. */
function newestBuildOf(prefix: string, published: readonly string[]): { match: ParsedVersion | null; sameMinor: string[] } {
  let match: ParsedVersion | null = null;
  const minorPrefix = prefix.split(".").slice(0, 2).join(".") + ".";
  for (const version of published) {
    const parsed = readVersion(version);
    if (!parsed || !version.startsWith(`${prefix}+`)) continue;
    if (!match || parsed.build > match.build) match = parsed;
  }
  const sameMinor = hopCandidates(published.filter((version) => version.startsWith(minorPrefix))).map((version) => version.raw).slice(0, 10);
  return { match, sameMinor };
}
