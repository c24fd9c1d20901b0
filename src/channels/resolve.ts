import semver from "semver";
import type { ChannelSpec } from "./config";
import { compileChannelRegexp } from "./re2";

/** The facts about a release that channel resolution reads. */
export type ReleaseFacts = {
  readonly version: string;
  readonly prerelease: boolean;
  readonly publishedAt: string | null;
};

/**
 * Parses a tag the way the upstream channel server does: leading `v` dropped, short
 * versions padded (`v1.2` is 1.2.0). Returns null for tags that are not versions.
 */
export function parseTolerant(tag: string): semver.SemVer | null {
  const trimmed = tag.trim().replace(/^v/, "");
  const match = /^(\d+(?:\.\d+){0,2})([-+].*)?$/.exec(trimmed);
  if (!match) return null;
  const parts = match[1]!.split(".").map((part) => String(Number(part)));
  while (parts.length < 3) parts.push("0");
  return semver.parse(`${parts.join(".")}${match[2] ?? ""}`);
}

/**
 * Resolves a regexp channel over releases, following rancher/channelserver: drafts and
 * releases marked prerelease are skipped; a tag is a candidate when `latestRegexp`
 * matches anywhere in it and `excludeRegexp` does not; the highest by SemVer
 * precedence wins, and among equals (build metadata differs) the one published later.
 *
 * @example resolveRegexpChannel({ name: "v1.25", latestRegexp: "v1\\.25\\..*" }, releases)
 */
export function resolveRegexpChannel(channel: ChannelSpec, releases: readonly ReleaseFacts[]): string | null {
  if (!channel.latestRegexp) return null;
  const include = compileChannelRegexp(channel.latestRegexp);
  const exclude = channel.excludeRegexp ? compileChannelRegexp(channel.excludeRegexp) : null;
  if (!include.ok || (exclude && !exclude.ok)) return null;

  const newestFirst = [...releases].sort((a, b) => (b.publishedAt ?? "").localeCompare(a.publishedAt ?? ""));
  let best: { version: string; parsed: semver.SemVer } | null = null;
  for (const release of newestFirst) {
    if (release.prerelease) continue;
    if (!include.regexp.test(release.version)) continue;
    if (exclude?.ok && exclude.regexp.test(release.version)) continue;
    const parsed = parseTolerant(release.version);
    if (!parsed) continue;
    if (!best || semver.compare(parsed, best.parsed) > 0) best = { version: release.version, parsed };
  }
  return best?.version ?? null;
}

/** The rule by which a channel chooses its version. */
export type ChannelRule = "pinned" | "regexp" | "upstream";

export function channelRule(channel: ChannelSpec): ChannelRule {
  if (channel.latest) return "pinned";
  if (channel.latestRegexp) return "regexp";
  return "upstream";
}

/** A channel's answer: the version served, and what its rules want while it lags. */
export type ChannelState = {
  readonly name: string;
  readonly version: string | null;
  readonly wanted: string | null;
  readonly since: string;
  readonly wantedSince: string | null;
};

export type ChannelStateInput = {
  readonly channels: readonly ChannelSpec[];
  readonly releases: readonly ReleaseFacts[];
  /** Upstream channel server's latest per channel name. */
  readonly upstream: ReadonlyMap<string, string | null>;
  /** Whether a version may be offered (published for the default architecture, or known). */
  readonly isOfferable: (version: string) => boolean;
  readonly previous: ReadonlyMap<string, ChannelState>;
  readonly now: string;
};

/**
 * Computes what every channel answers. A channel serves what its rule wants when that
 * version is offerable. Otherwise a regexp channel serves its best offerable match,
 * and a pinned or upstream-following channel keeps its previous answer while that is
 * still offerable, so a channel never points at files the mirror does not hold.
 */
export function computeChannelStates(input: ChannelStateInput): ChannelState[] {
  const offerable = input.releases.filter((release) => input.isOfferable(release.version));

  return input.channels.map((channel) => {
    const previous = input.previous.get(channel.name);
    const rule = channelRule(channel);
    const wanted = wantedVersion(channel, rule, input);

    let version: string | null;
    if (wanted !== null && input.isOfferable(wanted)) version = wanted;
    else if (rule === "regexp") version = resolveRegexpChannel(channel, offerable);
    else version = previous?.version && input.isOfferable(previous.version) ? previous.version : null;

    let wantedSince: string | null = wanted === null ? null : input.now;
    if (previous && previous.wanted === wanted) wantedSince = previous.wantedSince;

    return {
      name: channel.name,
      version,
      wanted,
      since: previous && previous.version === version ? previous.since : input.now,
      wantedSince,
    };
  });
}

/** Returns the version a channel's rule selects, before the publication gate. */
function wantedVersion(channel: ChannelSpec, rule: ChannelRule, input: ChannelStateInput): string | null {
  switch (rule) {
    case "pinned":
      return channel.latest!;
    case "regexp":
      return resolveRegexpChannel(channel, input.releases);
    case "upstream":
      return input.upstream.get(channel.name) ?? null;
  }
}
