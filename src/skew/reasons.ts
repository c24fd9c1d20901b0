import type { ParsedVersion } from "../versions";
import type { DowngradeLevel, NodeVersion, Role } from "./facts";
import type { CompiledHopRule } from "./hop-rules";
import type { LadderGap } from "./ladder";

/** The skew rules in words, as the preflight API and the clusters API return them. */
export const RULES = {
  versionForm: "Versions are written like v1.33.6+k3s1; v1.33.6-k3s1 and v1.33.6%2Bk3s1 are accepted too.",
  sameMajor: "An upgrade stays within one major version.",
  noDowngrade: "Downgrades are not supported: not to an older minor, patch, pre-release or K3s build.",
  oneMinor: "A server moves at most one minor version per upgrade.",
  haServers: "HA servers stay within one minor version of each other.",
  agentNotNewer: "An agent is never newer than the cluster's oldest server.",
  agentLag: "An agent is at most 3 minor versions older than the servers (2 for agents older than v1.25).",
  freshInstall: "A new node joins at a version the cluster's servers allow.",
} as const;

/**
 * Reason for a skew decision. Allowed and denied outcomes share this union;
 * `describeReason` maps every variant to its wire code, rule and message.
 */
export type SkewReason =
  | { readonly kind: "no_change"; readonly version: ParsedVersion }
  | { readonly kind: "fresh_install"; readonly role: Role; readonly target: ParsedVersion; readonly clusterKnown: boolean }
  | { readonly kind: "patch_upgrade"; readonly from: ParsedVersion; readonly to: ParsedVersion; readonly clusterKnown: boolean }
  | { readonly kind: "minor_upgrade"; readonly from: ParsedVersion; readonly to: ParsedVersion; readonly clusterKnown: boolean }
  | { readonly kind: "agent_upgrade"; readonly from: ParsedVersion; readonly to: ParsedVersion; readonly clusterKnown: boolean }
  | { readonly kind: "unparseable_version"; readonly field: string; readonly input: string }
  | { readonly kind: "major_change"; readonly from: ParsedVersion; readonly to: ParsedVersion }
  | { readonly kind: "downgrade"; readonly level: DowngradeLevel; readonly from: ParsedVersion; readonly to: ParsedVersion }
  | { readonly kind: "skipped_minor"; readonly from: ParsedVersion; readonly to: ParsedVersion; readonly gap: LadderGap | null }
  | { readonly kind: "hop_minimum_source"; readonly rule: CompiledHopRule; readonly from: ParsedVersion; readonly to: ParsedVersion; readonly gap: LadderGap | null }
  | { readonly kind: "ha_server_skew"; readonly target: ParsedVersion; readonly server: NodeVersion }
  | { readonly kind: "agent_newer_than_server"; readonly agent: ParsedVersion; readonly server: NodeVersion }
  | { readonly kind: "agent_too_old"; readonly agent: ParsedVersion; readonly server: NodeVersion; readonly maxLagMinors: number }
  | { readonly kind: "server_outpaces_agent"; readonly target: ParsedVersion; readonly agent: NodeVersion; readonly maxLagMinors: number };

/** A reason as it goes on the wire: a stable machine code, the rule's text and one line for humans. */
export type ReasonText = { readonly code: string; readonly rule: string; readonly message: string };

const minor = (version: ParsedVersion) => `v${version.major}.${version.minor}`;

function describeGap(gap: LadderGap | null): string {
  if (!gap) return "";
  switch (gap.kind) {
    case "no_published_release":
      return `; the mirror has no published ${gap.minor} release, so the ladder stops there`;
    case "no_release_meets_hop_rule":
      return `; no published ${gap.rule.from} release is at least ${gap.rule.minimumSource}, so the ladder stops there`;
  }
}

function clusterNote(clusterKnown: boolean): string {
  return clusterKnown ? "" : " (no fresh inventory for the cluster, so only the node's own move was checked)";
}

/** Renders a hop rule the way the rule field shows it. */
export function hopRuleText(rule: CompiledHopRule): string {
  return `To go from ${rule.from} to ${rule.to} a server must run at least ${rule.minimumSource}: ${rule.reason}`;
}

/** Maps every reason to its wire code, rule text and message; a new variant does not compile until mapped here. */
export function describeReason(reason: SkewReason): ReasonText {
  switch (reason.kind) {
    case "no_change":
      return { code: "no_change", rule: RULES.noDowngrade, message: `already on ${reason.version.raw}; nothing to install` };
    case "fresh_install":
      return {
        code: "fresh_install",
        rule: RULES.freshInstall,
        message: `a new ${reason.role} may install ${reason.target.raw}${clusterNote(reason.clusterKnown)}`,
      };
    case "patch_upgrade":
      return { code: "patch_upgrade", rule: RULES.noDowngrade, message: `${reason.from.raw} to ${reason.to.raw} stays within ${minor(reason.to)}${clusterNote(reason.clusterKnown)}` };
    case "minor_upgrade":
      return { code: "minor_upgrade", rule: RULES.oneMinor, message: `${reason.from.raw} to ${reason.to.raw} moves one minor version${clusterNote(reason.clusterKnown)}` };
    case "agent_upgrade":
      return { code: "agent_upgrade", rule: RULES.agentNotNewer, message: `agent ${reason.from.raw} to ${reason.to.raw} keeps it within the servers' versions${clusterNote(reason.clusterKnown)}` };
    case "unparseable_version":
      return { code: "unparseable_version", rule: RULES.versionForm, message: `${reason.field} "${reason.input.slice(0, 80)}" is not a K3s version; write it like v1.33.6+k3s1` };
    case "major_change":
      return { code: "major_change", rule: RULES.sameMajor, message: `${reason.from.raw} to ${reason.to.raw} changes the major version` };
    case "downgrade":
      return {
        code: `downgrade_${reason.level}`,
        rule: RULES.noDowngrade,
        message: `${reason.to.raw} is older than the installed ${reason.from.raw} (an older ${reason.level === "build" ? "K3s build" : reason.level}); install ${reason.from.raw} or newer`,
      };
    case "skipped_minor":
      return {
        code: "skipped_minor",
        rule: RULES.oneMinor,
        message: `${reason.from.raw} to ${reason.to.raw} skips ${reason.to.minor - reason.from.minor - 1} minor version(s); upgrade one minor at a time along the ladder${describeGap(reason.gap)}`,
      };
    case "hop_minimum_source":
      return {
        code: "hop_minimum_source",
        rule: hopRuleText(reason.rule),
        message: `${reason.from.raw} is older than ${reason.rule.minimumSource}, the oldest ${reason.rule.from} release that may move to ${reason.rule.to}; upgrade along the ladder${describeGap(reason.gap)}`,
      };
    case "ha_server_skew":
      return {
        code: "ha_server_skew",
        rule: RULES.haServers,
        message: `server ${reason.server.name} runs ${reason.server.version.raw}, more than one minor away from ${reason.target.raw}; upgrade ${reason.server.name} first`,
      };
    case "agent_newer_than_server":
      return {
        code: "agent_newer_than_server",
        rule: RULES.agentNotNewer,
        message: `agent version ${reason.agent.raw} is newer than server ${reason.server.name} (${reason.server.version.raw}); install ${reason.server.version.raw} or upgrade the servers first`,
      };
    case "agent_too_old":
      return {
        code: "agent_too_old",
        rule: RULES.agentLag,
        message: `agent version ${reason.agent.raw} is more than ${reason.maxLagMinors} minor versions older than server ${reason.server.name} (${reason.server.version.raw}); install a version closer to the servers`,
      };
    case "server_outpaces_agent":
      return {
        code: "server_outpaces_agent",
        rule: RULES.agentLag,
        message: `${reason.target.raw} would leave agent ${reason.agent.name} (${reason.agent.version.raw}) more than ${reason.maxLagMinors} minor versions behind; upgrade the agents first`,
      };
  }
}
