import type { ParsedVersion } from "../versions";
import { agentCap, isNewer, isSameVersion, newerOf, oldestNode, readVersion, type ClusterFacts, type NodeVersion, type Role } from "./facts";
import { compileHopRules, unmetHopRule, type CompiledHopRule, type HopRule } from "./hop-rules";
import { buildLadder, hopCandidates, newestOfMinor, newestPatchOf, type LadderGap } from "./ladder";
import { hopRuleText, RULES, type ReasonText } from "./reasons";

/** Version a channel last offered one cluster (a row of cluster_offers). */
export type ClusterOffer = { readonly version: string; readonly offeredAt: string };

/** Reason a channel redirect differs from the channel's own version. */
export type OfferHold =
  | { readonly kind: "caller_ahead"; readonly current: ParsedVersion; readonly offer: ParsedVersion }
  | { readonly kind: "one_minor_per_upgrade"; readonly from: ParsedVersion; readonly goal: ParsedVersion }
  | { readonly kind: "hop_minimum_source"; readonly rule: CompiledHopRule; readonly from: ParsedVersion }
  | { readonly kind: "no_published_hop"; readonly from: ParsedVersion; readonly gap: LadderGap }
  | { readonly kind: "agents_lag"; readonly agent: NodeVersion; readonly maxServerMinor: number }
  | { readonly kind: "servers_not_on_offer"; readonly offer: ParsedVersion; readonly server: NodeVersion }
  | { readonly kind: "waiting_for_plan"; readonly offer: ParsedVersion; readonly reported: ParsedVersion | null }
  | { readonly kind: "dwell"; readonly offer: ParsedVersion; readonly until: string }
  | { readonly kind: "agent_follows_servers"; readonly server: NodeVersion }
  | { readonly kind: "agent_newer_than_servers"; readonly current: ParsedVersion; readonly server: NodeVersion }
  | { readonly kind: "servers_unknown" }
  | { readonly kind: "cluster_version_unknown" };

export type ChannelOfferInput = {
  /** The version the channel and the policy offer this caller, canonical spelling. */
  readonly channelVersion: string;
  /** The caller's role; null when the request does not say (system-upgrade-controller Plans). */
  readonly role: Role | null;
  /** The caller's version as the request gives it (X-SUC-Latest-Version or `current`). */
  readonly current: ParsedVersion | null;
  /** Fresh nodes of the caller's cluster and its Plan's last reported version; null without a cluster id. */
  readonly cluster: (ClusterFacts & { readonly sucLatestVersion: ParsedVersion | null }) | null;
  /** The offer this channel last made the cluster. */
  readonly previousOffer: ClusterOffer | null;
  readonly published: Iterable<string>;
  readonly hopRules: readonly HopRule[];
  /** How long an offer lasts before the next hop, when no fresh server inventory can show progress. */
  readonly dwellMs: number;
  readonly now: string;
};

export type ChannelOfferDecision = {
  /** The version to redirect to, canonical spelling. */
  readonly version: string;
  readonly hold: OfferHold | null;
  /** A new cluster offer to store, or null to keep the stored one. */
  readonly store: ClusterOffer | null;
};

type StepContext = { readonly candidates: readonly ParsedVersion[]; readonly rules: readonly CompiledHopRule[] };
type Step = { readonly version: ParsedVersion; readonly hold: OfferHold | null };

/**
 * Decides which version a channel lookup redirects to for a caller that gives its
 * version or cluster, so that following the redirects never breaks a skew rule:
 *
 * - Without a cluster id, a server (or a caller of unknown role) gets the first hop of its
 *   ladder towards the channel's version, and never a version below its own.
 * - With a cluster id, every Plan of the cluster gets the cluster's offer: the first hop
 *   from where its servers are. The offer advances to the next hop only when fresh
 *   inventory shows every server on it, or, without fresh server inventory, once the
 *   Plan has reported the offer and the dwell time has passed since it was made.
 * - An agent gets the version of the cluster's oldest fresh server; without server
 *   inventory it gets the cluster's offer, else the channel's version.
 */
export function decideChannelOffer(input: ChannelOfferInput): ChannelOfferDecision {
  const goal = readVersion(input.channelVersion);
  if (!goal) return { version: input.channelVersion, hold: null, store: null };
  const context: StepContext = { candidates: hopCandidates(input.published), rules: compileHopRules(input.hopRules) };

  if (input.role === "agent") {
    const answer = answerAgent(input, goal);
    return { version: answer.version.raw, hold: answer.hold, store: null };
  }

  if (!input.cluster) {
    if (!input.current) return { version: goal.raw, hold: null, store: null };
    const step = answerCaller(input.current, goal, context);
    return { version: step.version.raw, hold: step.hold, store: null };
  }

  const offer = decideClusterOffer(input, input.cluster, goal, context);
  const answer = input.current ? answerCaller(input.current, offer.version, context) : { version: offer.version, hold: null };
  return { version: answer.version.raw, hold: answer.hold ?? offer.hold, store: offer.store };
}

function answerAgent(input: ChannelOfferInput, goal: ParsedVersion): Step {
  const oldest = oldestNode(input.cluster?.servers ?? []);
  if (oldest) {
    if (input.current && isNewer(input.current, oldest.version)) return { version: input.current, hold: { kind: "agent_newer_than_servers", current: input.current, server: oldest } };
    return { version: oldest.version, hold: isSameVersion(oldest.version, goal) ? null : { kind: "agent_follows_servers", server: oldest } };
  }

  const offered = input.cluster && input.previousOffer ? readVersion(input.previousOffer.version) : null;
  const answer = offered ?? goal;
  if (input.current && isNewer(input.current, answer)) return { version: input.current, hold: { kind: "caller_ahead", current: input.current, offer: answer } };
  return { version: answer, hold: offered ? null : { kind: "servers_unknown" } };
}

/** Computes one caller's version from the cluster's or channel's offer: never below the caller, one hop at a time. */
function answerCaller(current: ParsedVersion, offer: ParsedVersion, context: StepContext): Step {
  if (isNewer(current, offer)) return { version: current, hold: { kind: "caller_ahead", current, offer } };
  return stepToward(current, offer, context, null);
}

function decideClusterOffer(input: ChannelOfferInput, cluster: NonNullable<ChannelOfferInput["cluster"]>, goal: ParsedVersion, context: StepContext): Step & { store: ClusterOffer | null } {
  const previous = usablePreviousOffer(input, goal, context);
  const base = oldestNode(cluster.servers);
  const cap = agentCap(cluster.agents);

  let from: ParsedVersion | null;
  if (previous && base) {
    if (isNewer(previous, base.version)) return { version: previous, hold: { kind: "servers_not_on_offer", offer: previous, server: base }, store: null };
    from = base.version;
  } else if (previous) {
    const reported = cluster.sucLatestVersion && input.current ? newerOf(cluster.sucLatestVersion, input.current) : (cluster.sucLatestVersion ?? input.current);
    if (!reported || isNewer(previous, reported)) return { version: previous, hold: { kind: "waiting_for_plan", offer: previous, reported }, store: null };
    const offeredAtMs = Date.parse(input.previousOffer!.offeredAt);
    if (!(Date.parse(input.now) - offeredAtMs >= input.dwellMs)) {
      return { version: previous, hold: { kind: "dwell", offer: previous, until: new Date(offeredAtMs + input.dwellMs).toISOString() }, store: null };
    }
    from = reported;
  } else {
    from = base?.version ?? input.current;
  }

  // NOTE: a Plan's first poll carries no X-SUC-Latest-Version, so a cluster with no fresh
  // server inventory gets the channel's version unchecked; install reports close that gap.
  if (!from) return { version: goal, hold: { kind: "cluster_version_unknown" }, store: { version: goal.raw, offeredAt: input.now } };
  const step = isNewer(from, goal) ? { version: from, hold: null } : stepToward(from, goal, context, cap);
  const store = previous && isSameVersion(previous, step.version) ? null : { version: step.version.raw, offeredAt: input.now };
  return { ...step, store };
}

/** The stored offer, unless it no longer parses, lies above the channel's version, or is no longer published. */
function usablePreviousOffer(input: ChannelOfferInput, goal: ParsedVersion, context: StepContext): ParsedVersion | null {
  if (!input.previousOffer) return null;
  const previous = readVersion(input.previousOffer.version);
  if (!previous || isNewer(previous, goal)) return null;
  const published = isSameVersion(previous, goal) || context.candidates.some((candidate) => isSameVersion(candidate, previous));
  return published ? previous : null;
}

/**
 * Returns the first hop from `from` towards `goal`. With an agent cap, the servers go no
 * further than the minor that keeps every agent within its allowed lag.
 */
function stepToward(from: ParsedVersion, goal: ParsedVersion, context: StepContext, cap: ReturnType<typeof agentCap>): Step {
  if (!isNewer(goal, from)) return { version: from, hold: null };

  let ceiling = goal;
  let capHold: OfferHold | null = null;
  if (cap && goal.major === from.major && goal.minor > cap.maxServerMinor) {
    capHold = { kind: "agents_lag", agent: cap.agent, maxServerMinor: cap.maxServerMinor };
    const capped = cap.maxServerMinor > from.minor ? newestOfMinor(from.major, cap.maxServerMinor, context.candidates, goal) : null;
    ceiling = capped ?? newestPatchOf(from, context.candidates, goal);
    if (!isNewer(ceiling, from)) return { version: from, hold: capHold };
  }

  const ladder = buildLadder(from, ceiling, context.candidates, context.rules);
  const first = ladder.hops[0];
  if (!first) return { version: from, hold: ladder.gap ? { kind: "no_published_hop", from, gap: ladder.gap } : capHold };
  if (capHold) return { version: first, hold: capHold };
  if (isSameVersion(first, goal)) return { version: first, hold: null };

  const rule = first.minor === from.minor ? unmetHopRule(context.rules, from, from.minor + 1) : null;
  return { version: first, hold: rule ? { kind: "hop_minimum_source", rule, from } : { kind: "one_minor_per_upgrade", from, goal } };
}

/** Maps every hold to its wire code, rule text and message; a new variant does not compile until mapped here. */
export function describeHold(hold: OfferHold): ReasonText {
  switch (hold.kind) {
    case "caller_ahead":
      return { code: "caller_ahead", rule: RULES.noDowngrade, message: `the caller runs ${hold.current.raw}, newer than the offered ${hold.offer.raw}; it keeps its version` };
    case "one_minor_per_upgrade":
      return { code: "one_minor_per_upgrade", rule: RULES.oneMinor, message: `${hold.goal.raw} is more than one minor above ${hold.from.raw}; offering the next hop first` };
    case "hop_minimum_source":
      return { code: "hop_minimum_source", rule: hopRuleText(hold.rule), message: `${hold.from.raw} is older than ${hold.rule.minimumSource}; offering a newer ${hold.rule.from} patch first` };
    case "no_published_hop":
      return {
        code: "no_published_hop",
        rule: RULES.oneMinor,
        message:
          hold.gap.kind === "no_published_release"
            ? `no published ${hold.gap.minor} release to step through from ${hold.from.raw}`
            : `no published ${hold.gap.rule.from} release is at least ${hold.gap.rule.minimumSource}`,
      };
    case "agents_lag":
      return {
        code: "agents_lag",
        rule: RULES.agentLag,
        message: `agent ${hold.agent.name} runs ${hold.agent.version.raw}, so servers stay at v${hold.agent.version.major}.${hold.maxServerMinor} or below until agents upgrade`,
      };
    case "servers_not_on_offer":
      return { code: "servers_not_on_offer", rule: RULES.haServers, message: `server ${hold.server.name} still runs ${hold.server.version.raw}; the cluster stays on ${hold.offer.raw} until every server runs it` };
    case "waiting_for_plan":
      return {
        code: "waiting_for_plan",
        rule: RULES.oneMinor,
        message: `the cluster stays on ${hold.offer.raw} until its Plan reports it${hold.reported ? ` (last reported ${hold.reported.raw})` : ""}`,
      };
    case "dwell":
      return { code: "dwell", rule: RULES.oneMinor, message: `the cluster stays on ${hold.offer.raw} until ${hold.until}, because no fresh server inventory shows the rollout finished` };
    case "agent_follows_servers":
      return { code: "agent_follows_servers", rule: RULES.agentNotNewer, message: `agents get the oldest server's version, ${hold.server.version.raw} (server ${hold.server.name})` };
    case "agent_newer_than_servers":
      return { code: "agent_newer_than_servers", rule: RULES.agentNotNewer, message: `the agent runs ${hold.current.raw}, newer than server ${hold.server.name} (${hold.server.version.raw}); it keeps its version` };
    case "servers_unknown":
      return { code: "servers_unknown", rule: RULES.agentNotNewer, message: "the mirror has no fresh server of this cluster in its inventory, so it redirects to the channel's version" };
    case "cluster_version_unknown":
      return {
        code: "cluster_version_unknown",
        rule: RULES.oneMinor,
        message: "the request gives no version and the inventory has no fresh server of this cluster, so the channel's version was not checked",
      };
  }
}
