import { compareK3sVersions, parseVersion, type ParsedVersion } from "../versions";
import { isNewer, isSameVersion } from "./facts";
import { unmetHopRule, type CompiledHopRule } from "./hop-rules";

/** Reason a ladder stops before its target. */
export type LadderGap =
  | { readonly kind: "no_published_release"; readonly minor: string }
  | { readonly kind: "no_release_meets_hop_rule"; readonly rule: CompiledHopRule };

/** The hops from one version to another, each allowed by the server rules, the target last. */
export type Ladder = {
  readonly hops: readonly ParsedVersion[];
  /** Set when no published release can fill the next hop; `hops` then ends early. */
  readonly gap: LadderGap | null;
};

/**
 * Sorts the published versions newest first, dropping pre-releases and what does not
 * parse, so ladders pick among final releases only.
 */
export function hopCandidates(published: Iterable<string>): ParsedVersion[] {
  const candidates: ParsedVersion[] = [];
  for (const version of published) {
    const parsed = parseVersion(version);
    if (parsed && parsed.prerelease === null) candidates.push(parsed);
  }
  return candidates.sort((a, b) => compareK3sVersions(b, a));
}

function newestInMinor(candidates: readonly ParsedVersion[], major: number, minor: number, atLeast: ParsedVersion | null): ParsedVersion | null {
  for (const candidate of candidates) {
    if (candidate.major !== major || candidate.minor !== minor) continue;
    if (atLeast && compareK3sVersions(candidate, atLeast) < 0) return null;
    return candidate;
  }
  return null;
}

/**
 * Builds the ladder a server climbs from `from` to `target`: one minor per hop, each hop
 * the newest published final patch of its minor. When a hop rule requires a newer source,
 * the ladder first moves to the newest patch of the current minor that meets it. The
 * target is the last hop whatever its kind (it may be a pre-release). Empty when `from`
 * is already at or past the target, or when the majors differ.
 *
 * @example buildLadder(v1.18.20+k3s1, v1.22.4+k3s1, ...) // v1.19.z, v1.20.z, v1.21.z, v1.22.4+k3s1
 */
export function buildLadder(from: ParsedVersion, target: ParsedVersion, candidates: readonly ParsedVersion[], rules: readonly CompiledHopRule[]): Ladder {
  const hops: ParsedVersion[] = [];
  if (from.major !== target.major || !isNewer(target, from)) return { hops, gap: null };

  let position = from;
  while (!isSameVersion(position, target)) {
    if (position.minor === target.minor) {
      hops.push(target);
      break;
    }

    const rule = unmetHopRule(rules, position, position.minor + 1);
    if (rule) {
      const patch = newestInMinor(candidates, position.major, position.minor, rule.minimumSourceVersion);
      if (!patch || !isNewer(patch, position)) return { hops, gap: { kind: "no_release_meets_hop_rule", rule } };
      hops.push(patch);
      position = patch;
      continue;
    }

    const next = position.minor + 1 === target.minor ? target : newestInMinor(candidates, position.major, position.minor + 1, null);
    if (!next) return { hops, gap: { kind: "no_published_release", minor: `v${position.major}.${position.minor + 1}` } };
    hops.push(next);
    position = next;
  }
  return { hops, gap: null };
}

/**
 * Returns the newest published final release of `version`'s minor that is not older than
 * `version` and not newer than `ceiling`, or `version` itself when there is none.
 */
export function newestPatchOf(version: ParsedVersion, candidates: readonly ParsedVersion[], ceiling: ParsedVersion): ParsedVersion {
  for (const candidate of candidates) {
    if (candidate.major !== version.major || candidate.minor !== version.minor) continue;
    if (isNewer(candidate, ceiling)) continue;
    return isNewer(candidate, version) ? candidate : version;
  }
  return version;
}

/** Returns the newest published final release of a minor not newer than `ceiling`, or null. */
export function newestOfMinor(major: number, minor: number, candidates: readonly ParsedVersion[], ceiling: ParsedVersion): ParsedVersion | null {
  for (const candidate of candidates) {
    if (candidate.major !== major || candidate.minor !== minor) continue;
    if (isNewer(candidate, ceiling)) continue;
    return candidate;
  }
  return null;
}
