import semver from "semver";
import { z } from "zod";
import { CHANNEL_NAME_PATTERN } from "../channels/config";
import { HopRuleList, REASON_TEXT_PATTERN } from "../skew/hop-rules";
import { canonicalVersion } from "../versions";

/**
 * The org policy document: what the fleet gets above what the channel config resolves.
 * One document is live at a time; every change is stored as a new revision.
 *
 * Freezes and pending pins carry values that the mirror fills in when a change is
 * applied (`since`, the frozen `version`/`versions`, `whilePending`), so a revision
 * states by itself what it answers and a rollback restores exactly that.
 */

export const MAX_REASON_LENGTH = 500;
const MAX_RANGE_LENGTH = 200;
const MAX_LIST_LENGTH = 1000;

/** Cluster ids as system-upgrade-controller and the install script send them. */
export const CLUSTER_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
/** Cluster patterns: a cluster id where `*` matches any run of characters and `?` one character. */
export const CLUSTER_PATTERN_PATTERN = /^[A-Za-z0-9._*?-]{1,128}$/;
const GROUP_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export const ChannelName = z.string().regex(CHANNEL_NAME_PATTERN, "must be a channel name of 1 to 64 characters [A-Za-z0-9._+-]");

/** An exact K3s version in any accepted spelling, stored in the canonical `+k3sN` spelling. */
export const ExactVersion = z
  .string()
  .max(128)
  .transform((value, ctx) => {
    const canonical = canonicalVersion(value);
    if (canonical === null) {
      ctx.addIssue({ code: "custom", message: `"${value}" is not an exact K3s version; write it like v1.33.6+k3s1` });
      return z.NEVER;
    }
    return canonical;
  });

/** A SemVer range as node-semver reads it, for example `>=1.30.0 <1.31.0` or `~1.30`. */
export const VersionRange = z
  .string()
  .min(1)
  .max(MAX_RANGE_LENGTH)
  .refine((value) => semver.validRange(value) !== null, { message: "is not a valid SemVer range; write it like >=1.30.0 <1.31.0 or ~1.30" });

const Reason = z
  .string()
  .trim()
  .min(1, "must say why")
  .max(MAX_REASON_LENGTH)
  .regex(REASON_TEXT_PATTERN, "must be printable text without double quotes or backslashes (use single quotes)");
const Instant = z.iso.datetime({ offset: true, message: "must be an ISO 8601 date and time, for example 2026-01-31T18:00:00Z" });

const freezeTimes = {
  reason: Reason,
  since: Instant.optional().describe("When the freeze started; filled in when the change is applied."),
  until: Instant.optional().describe("When the freeze ends by itself; without it the freeze holds until removed."),
};

/** A freeze of one channel: it answers `version`, its value when the freeze was applied. */
export const ChannelFreeze = z
  .object({
    ...freezeTimes,
    version: ExactVersion.nullable().optional().describe("The frozen answer; filled in with the channel's answer when the change is applied."),
  })
  .strict();
export type ChannelFreeze = z.infer<typeof ChannelFreeze>;

/** A freeze of the whole org or of a cluster group: each channel answers its frozen value. */
export const ScopeFreeze = z
  .object({
    ...freezeTimes,
    versions: z
      .record(ChannelName, ExactVersion.nullable())
      .optional()
      .describe("Frozen answer per channel; channels missing here are filled in with their answers when the change is applied."),
  })
  .strict();
export type ScopeFreeze = z.infer<typeof ScopeFreeze>;

/**
 * The policy for one channel: at most one rule (`follow`, `pin`, `range`, `hide`). A
 * channel with no rule keeps what the channel config resolves, so a freeze alone applies
 * to an existing channel without changing its rule.
 */
export const ChannelPolicy = z
  .object({
    follow: ChannelName.optional().describe("Answer what this channel of the channel config answers (the upstream layout)."),
    pin: ExactVersion.optional().describe("Answer exactly this version."),
    whilePending: ExactVersion.nullable()
      .optional()
      .describe("What a pinned channel answers until its pin is published; its presence accepts an unpublished pin."),
    range: VersionRange.optional().describe("Answer the newest published version in this SemVer range; pre-releases are never picked."),
    hide: z.literal(true).optional().describe("Remove the channel from the collection; lookups answer 404."),
    freeze: ChannelFreeze.optional(),
    description: z.string().max(MAX_REASON_LENGTH).optional(),
  })
  .strict()
  .superRefine((channel, ctx) => {
    const rules = (["follow", "pin", "range", "hide"] as const).filter((rule) => channel[rule] !== undefined);
    if (rules.length > 1) ctx.addIssue({ code: "custom", path: [rules[1]!], message: `cannot be combined with ${rules[0]}; a channel has at most one of follow, pin, range, hide` });
    if (channel.hide && channel.freeze) ctx.addIssue({ code: "custom", path: ["freeze"], message: "a hidden channel cannot be frozen; remove hide or freeze" });
    if (channel.whilePending !== undefined && channel.pin === undefined) ctx.addIssue({ code: "custom", path: ["whilePending"], message: "only applies to a pinned channel; remove it or add pin" });
  });
export type ChannelPolicy = z.infer<typeof ChannelPolicy>;

/** A version (exact) or a range of versions that no channel offers and no install may use. */
export const BlockedEntry = z
  .object({
    version: ExactVersion.optional().describe("One exact version, for example v1.30.3+k3s1."),
    range: VersionRange.optional().describe("Every version in a SemVer range, pre-releases included, any build."),
    reason: Reason.describe("Shown to whoever asks for a blocked version."),
  })
  .strict()
  .superRefine((entry, ctx) => {
    if ((entry.version === undefined) === (entry.range === undefined)) ctx.addIssue({ code: "custom", path: ["version"], message: "give exactly one of version or range" });
  });
export type BlockedEntry = z.infer<typeof BlockedEntry>;

/**
 * Clusters, by id or by pattern, that get their own default channel and optionally a
 * freeze. Exact ids win over patterns; two groups whose patterns can match the same id
 * must agree on channel and freeze.
 */
export const ClusterGroup = z
  .object({
    name: z.string().regex(GROUP_NAME_PATTERN, "must be 1 to 64 characters of [A-Za-z0-9._-]"),
    clusters: z.array(z.string().regex(CLUSTER_ID_PATTERN, "must be a cluster id of 1 to 128 characters [A-Za-z0-9._-]")).max(MAX_LIST_LENGTH).optional(),
    patterns: z
      .array(z.string().regex(CLUSTER_PATTERN_PATTERN, "must be a pattern of 1 to 128 characters [A-Za-z0-9._-] with * and ? as wildcards"))
      .max(MAX_LIST_LENGTH)
      .optional(),
    channel: ChannelName.optional().describe("The group's default channel: requests for the org default channel answer this channel's version."),
    freeze: ScopeFreeze.optional(),
    description: z.string().max(MAX_REASON_LENGTH).optional(),
  })
  .strict()
  .superRefine((group, ctx) => {
    if ((group.clusters?.length ?? 0) + (group.patterns?.length ?? 0) === 0) ctx.addIssue({ code: "custom", path: ["clusters"], message: "a group needs at least one cluster id or pattern" });
    if (group.channel === undefined && group.freeze === undefined) ctx.addIssue({ code: "custom", path: ["channel"], message: "a group needs a channel, a freeze, or both" });
  });
export type ClusterGroup = z.infer<typeof ClusterGroup>;

export const PolicyDocument = z
  .object({
    $schema: z.string().max(500).optional().describe("Ignored; lets editors find the JSON Schema."),
    defaultChannel: ChannelName.optional().describe("The channel installs use when none is named; defaults to the DEFAULT_CHANNEL var."),
    freeze: ScopeFreeze.optional().describe("Freezes every channel of the org."),
    blocked: z.array(BlockedEntry).max(MAX_LIST_LENGTH).optional(),
    channels: z.record(ChannelName, ChannelPolicy).optional().describe("Org channels by name: overrides of config channels, or new ones."),
    clusterGroups: z.array(ClusterGroup).max(MAX_LIST_LENGTH).optional(),
    hopRules: HopRuleList.optional().describe("Minimum source versions for hops between minor versions, read by the version-skew checks."),
  })
  .strict();
export type PolicyDocument = z.infer<typeof PolicyDocument>;

/** The policy in force before any revision is stored: the channel config as it resolves. */
export const EMPTY_POLICY: PolicyDocument = {};

/** One problem with a policy change: the field as a dotted path and what is wrong with it. */
export type PolicyProblem = { field: string; message: string };

/** Builds the policy document's JSON Schema (draft 2020-12), for editors and the CLI. */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(PolicyDocument, { io: "input", target: "draft-2020-12" }),
    title: "k3s-channel-mirror org policy",
  };
}

/**
 * Formats a path into the document like `channels.stable.pin`, `clusterGroups[1].patterns[0]`
 * or `channels["v1.30"].pin` (keys that are not identifiers are quoted).
 */
export function fieldPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const part of path) {
    if (typeof part === "number") text += `[${part}]`;
    else if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(String(part))) text += `[${JSON.stringify(String(part))}]`;
    else text += text === "" ? String(part) : `.${String(part)}`;
  }
  return text === "" ? "(document)" : text;
}

/** Parses a policy document (already decoded from JSON or YAML), listing every schema problem. */
export function parsePolicyDocument(document: unknown): { ok: true; policy: PolicyDocument } | { ok: false; problems: PolicyProblem[] } {
  const parsed = PolicyDocument.safeParse(document);
  if (parsed.success) return { ok: true, policy: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({
      field: fieldPath(issue.path),
      message: issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : issue.message,
    })),
  };
}
