import semver from "semver";
import { compareK3sVersions, parseVersion, type ParsedVersion } from "../versions";
import { findBlock } from "./blocked";
import { findClusterGroup, type GroupMatch } from "./clusters";
import type { ChannelFreeze, ChannelPolicy, ClusterGroup, PolicyDocument, ScopeFreeze } from "./schema";

/** A channel of the channel config with the version it serves now (its stored channel state). */
export type BaseChannel = {
  readonly name: string;
  readonly version: string | null;
  /** The version the channel's rule selects (stored channel state). When it is blocked, `version` may be empty. */
  readonly wanted?: string | null;
  readonly latestRegexp?: string;
  readonly excludeRegexp?: string;
};

/** The mirror state that policy evaluation reads. */
export type MirrorFacts = {
  /** Channels of the channel config, in config order, with their stored versions. */
  readonly baseChannels: readonly BaseChannel[];
  /** Versions a channel may serve: published for the default architecture (or every known one, by CHANNEL_GATE). */
  readonly offerable: ReadonlySet<string>;
  /** Versions whose release is marked pre-release; a range never picks them. */
  readonly prereleases: ReadonlySet<string>;
};

export type PolicyInput = MirrorFacts & {
  readonly policy: PolicyDocument;
  /** The DEFAULT_CHANNEL var, used when the policy names no default channel. */
  readonly configDefaultChannel: string;
  /** Milliseconds since the epoch; freezes with `until` end at that instant. */
  readonly nowMs: number;
};

/** One step behind a channel's version, tagged by kind; a channel lists them in the order they applied. */
export type Reason =
  | { readonly kind: "channel-config" }
  | { readonly kind: "follow"; readonly channel: string; readonly found: boolean }
  | { readonly kind: "pin"; readonly version: string }
  | { readonly kind: "pin-pending"; readonly version: string; readonly serving: string | null }
  | { readonly kind: "range"; readonly range: string }
  | { readonly kind: "frozen"; readonly scope: "org" | "channel" | "group"; readonly reason: string; readonly since: string | null; readonly until: string | null; readonly group?: string }
  | { readonly kind: "cluster-group"; readonly group: string; readonly channel: string }
  | { readonly kind: "blocked"; readonly version: string; readonly reason: string; readonly rule: string; readonly replacement: string | null }
  | { readonly kind: "unpublished"; readonly version: string };

export type EffectiveChannel = {
  readonly name: string;
  readonly version: string | null;
  readonly latestRegexp?: string;
  readonly excludeRegexp?: string;
  readonly reasons: readonly Reason[];
};

export type EffectivePolicy = {
  /** The channel an install uses when none is named: the group's channel, else the org default. */
  readonly defaultChannel: string;
  readonly group: { readonly name: string; readonly matchedBy: GroupMatch["matchedBy"] } | null;
  /** Visible channels: config channels in config order, then channels only the policy defines. */
  readonly channels: readonly EffectiveChannel[];
};

/**
 * Computes what every channel answers for one caller. Without a cluster id (or for an id
 * in no group) the result is the org's answers.
 *
 * Steps, per channel:
 * 1. its rule (channel config, follow, pin, range);
 * 2. its own freeze, or else the org freeze;
 * 3. for a cluster in a group, the group's channel in place of the default channel, then
 *    the group's freeze;
 * 4. a blocked or unpublished version is replaced (see `screenVersion`).
 * Each step that changes or explains the version adds a tagged reason.
 */
export function evaluatePolicy(input: PolicyInput, clusterId: string | null): EffectivePolicy {
  const match = findClusterGroup(input.policy, clusterId);
  return evaluateForGroup(input, match?.group ?? null, match?.matchedBy ?? null);
}

/**
 * Computes the answers for the members of a group (or for the org, with `group` null).
 * Used directly to compute a group's answers at the moment its freeze is applied.
 */
export function evaluateForGroup(input: PolicyInput, group: ClusterGroup | null, matchedBy: GroupMatch["matchedBy"] | null = { kind: "id" }): EffectivePolicy {
  const orgChannels = evaluateOrgChannels(input);
  const orgDefault = input.policy.defaultChannel ?? input.configDefaultChannel;
  if (group === null) return { defaultChannel: orgDefault, group: null, channels: orgChannels };

  // Step: the group's channel answers in place of the org default channel.
  let channels = orgChannels;
  if (group.channel !== undefined) {
    const source = orgChannels.find((channel) => channel.name === group.channel);
    const step: Reason = { kind: "cluster-group", group: group.name, channel: group.channel };
    channels = channels.map((channel) =>
      channel.name === orgDefault ? { name: channel.name, version: source?.version ?? null, reasons: [...(source?.reasons ?? []), step] } : channel,
    );
  }

  // Step: the group's freeze keeps every channel it lists at its frozen value.
  const groupFreeze = activeFreeze(group.freeze, input.nowMs);
  if (groupFreeze) {
    channels = channels.map((channel) => {
      const frozen = groupFreeze.versions?.[channel.name];
      if (frozen === undefined) return channel;
      const step = frozenReason("group", groupFreeze, group.name);
      return screenVersion(input, { name: channel.name, version: frozen, reasons: [...channel.reasons, step] });
    });
  }

  return { defaultChannel: group.channel ?? orgDefault, group: { name: group.name, matchedBy: matchedBy ?? { kind: "id" } }, channels };
}

/** Evaluates the org's channels: rules, then channel and org freezes, then screening. */
function evaluateOrgChannels(input: PolicyInput): EffectiveChannel[] {
  const rules = input.policy.channels ?? {};
  const baseByName = new Map(input.baseChannels.map((channel) => [channel.name, channel]));
  const names = [...input.baseChannels.map((channel) => channel.name), ...Object.keys(rules).filter((name) => !baseByName.has(name))];
  const orgFreeze = activeFreeze(input.policy.freeze, input.nowMs);

  const channels: EffectiveChannel[] = [];
  for (const name of names) {
    const rule = rules[name];
    if (rule?.hide) continue;
    let channel = applyRule(input, name, rule, baseByName);

    const channelFreeze = activeFreeze(rule?.freeze, input.nowMs);
    if (channelFreeze && channelFreeze.version !== undefined) {
      channel = { ...withoutRegexps(channel), version: channelFreeze.version, reasons: [...channel.reasons, frozenReason("channel", channelFreeze)] };
    } else if (orgFreeze && orgFreeze.versions?.[name] !== undefined) {
      channel = { ...withoutRegexps(channel), version: orgFreeze.versions[name]!, reasons: [...channel.reasons, frozenReason("org", orgFreeze)] };
    }
    channels.push(screenVersion(input, channel));
  }
  return channels;
}

function applyRule(input: PolicyInput, name: string, rule: ChannelPolicy | undefined, baseByName: ReadonlyMap<string, BaseChannel>): EffectiveChannel {
  if (rule?.follow !== undefined) {
    const followed = baseByName.get(rule.follow);
    return aroundBlockedWanted(input, followed, { name, version: followed?.version ?? null, reasons: [{ kind: "follow", channel: rule.follow, found: followed !== undefined }] });
  }
  if (rule?.pin !== undefined) {
    if (isServable(input, rule.pin)) return { name, version: rule.pin, reasons: [{ kind: "pin", version: rule.pin }] };
    const serving = rule.whilePending !== undefined && rule.whilePending !== null && isServable(input, rule.whilePending) ? rule.whilePending : null;
    return { name, version: serving, reasons: [{ kind: "pin-pending", version: rule.pin, serving }] };
  }
  if (rule?.range !== undefined) {
    return { name, version: newestInRange(input, rule.range), reasons: [{ kind: "range", range: rule.range }] };
  }
  const base = baseByName.get(name);
  return aroundBlockedWanted(input, base, {
    name,
    version: base?.version ?? null,
    ...(base?.latestRegexp !== undefined ? { latestRegexp: base.latestRegexp } : {}),
    ...(base?.excludeRegexp !== undefined ? { excludeRegexp: base.excludeRegexp } : {}),
    reasons: [{ kind: "channel-config" }],
  });
}

/**
 * A config channel whose wanted version is blocked keeps its previous answer, but when
 * that answer is gone too (the block covers it, or the channel is new) its stored state
 * is empty. Such a channel answers the patch below the blocked version instead.
 */
function aroundBlockedWanted(input: PolicyInput, base: BaseChannel | undefined, channel: EffectiveChannel): EffectiveChannel {
  if (channel.version !== null || !base?.wanted) return channel;
  const block = findBlock(input.policy, base.wanted);
  if (!block) return channel;
  const replacement = olderUnblockedPatch(input, base.wanted);
  return { ...channel, version: replacement, reasons: [...channel.reasons, { kind: "blocked", version: base.wanted, reason: block.reason, rule: block.rule, replacement }] };
}

/**
 * Keeps a channel's version only when it is offerable and not blocked. A blocked version
 * is replaced by the newest offerable, unblocked, non-pre-release version of the same
 * minor line below it (the patch the fleet ran before), or by nothing. An unpublished
 * version is dropped. The refresh of channel states already keeps blocked versions out of them,
 * so this catches pins, freezes and states computed before the block was added.
 */
function screenVersion(input: PolicyInput, channel: EffectiveChannel): EffectiveChannel {
  const version = channel.version;
  if (version === null) return channel;

  const block = findBlock(input.policy, version);
  if (block) {
    const replacement = olderUnblockedPatch(input, version);
    return { ...withoutRegexps(channel), version: replacement, reasons: [...channel.reasons, { kind: "blocked", version, reason: block.reason, rule: block.rule, replacement }] };
  }
  if (!input.offerable.has(version)) {
    return { ...withoutRegexps(channel), version: null, reasons: [...channel.reasons, { kind: "unpublished", version }] };
  }
  return channel;
}

function isServable(input: PolicyInput, version: string): boolean {
  return input.offerable.has(version) && findBlock(input.policy, version) === null;
}

type VersionPool = Pick<PolicyInput, "policy" | "offerable" | "prereleases">;

/** Returns the newest offerable, unblocked, non-pre-release version whose SemVer part satisfies `range`. */
export function newestInRange(input: VersionPool, range: string): string | null {
  return newestOf(input, (parsed) => parsed.prerelease === null && semver.satisfies(`${parsed.major}.${parsed.minor}.${parsed.patch}`, range));
}

function olderUnblockedPatch(input: VersionPool, blocked: string): string | null {
  const target = parseVersion(blocked);
  if (!target) return null;
  return newestOf(input, (parsed) => parsed.prerelease === null && parsed.major === target.major && parsed.minor === target.minor && compareK3sVersions(parsed, target) < 0);
}

function newestOf(input: VersionPool, accepts: (parsed: ParsedVersion) => boolean): string | null {
  let best: ParsedVersion | null = null;
  for (const version of input.offerable) {
    if (input.prereleases.has(version)) continue;
    const parsed = parseVersion(version);
    if (!parsed || !accepts(parsed) || findBlock(input.policy, version)) continue;
    if (best === null || compareK3sVersions(parsed, best) > 0) best = parsed;
  }
  return best?.raw ?? null;
}

/** Returns the freeze when it applies at `nowMs`: started (or no start given) and not ended. */
export function activeFreeze<F extends ChannelFreeze | ScopeFreeze>(freeze: F | undefined, nowMs: number): F | null {
  if (!freeze) return null;
  if (freeze.since !== undefined && Date.parse(freeze.since) > nowMs) return null;
  if (freeze.until !== undefined && Date.parse(freeze.until) <= nowMs) return null;
  return freeze;
}

function frozenReason(scope: "org" | "channel" | "group", freeze: ChannelFreeze | ScopeFreeze, group?: string): Reason {
  return { kind: "frozen", scope, reason: freeze.reason, since: freeze.since ?? null, until: freeze.until ?? null, ...(group !== undefined ? { group } : {}) };
}

function withoutRegexps(channel: EffectiveChannel): EffectiveChannel {
  return { name: channel.name, version: channel.version, reasons: channel.reasons };
}
