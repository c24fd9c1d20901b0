import { canonicalVersion, compareK3sVersions, parseVersion, partialVersion, versionFromQuery, type ParsedVersion } from "../versions";

/** Maximum length of a version accepted from a request, in characters. */
export const MAX_VERSION_INPUT_LENGTH = 64;

/**
 * Outcome of normalising a version typed by a person.
 * - `exact`: a complete version in any accepted spelling, offered by the mirror.
 * - `newest-build`: a version without its `+k3sN` suffix, resolved to the newest offered build.
 * - `invalid`: not a K3s version in any accepted spelling.
 * - `not-offered`: a valid version the mirror does not offer; `nearby` lists what it does.
 */
export type VersionResolution =
  | { kind: "exact"; version: string }
  | { kind: "newest-build"; version: string; typed: string }
  | { kind: "invalid"; input: string }
  | { kind: "not-offered"; wanted: string; nearby: string[] };

const NEARBY_LIMIT = 8;

/**
 * Normalises an explicit version against the versions the mirror offers. Accepts
 * `1.28.5`, `v1.28.5`, `v1.28.5+k3s1`, `v1.28.5%2Bk3s1` and `v1.28.5-k3s1`. A literal
 * `+` that reached a query string unencoded arrives as a space and is read as `+`.
 *
 * @example resolveExplicitVersion("1.28.5", ["v1.28.5+k3s1", "v1.28.5+k3s2"])
 *   // { kind: "newest-build", version: "v1.28.5+k3s2", typed: "v1.28.5" }
 */
export function resolveExplicitVersion(input: string, offered: Iterable<string>): VersionResolution {
  const trimmed = versionFromQuery(input);
  if (trimmed.length === 0 || trimmed.length > MAX_VERSION_INPUT_LENGTH) return { kind: "invalid", input };

  const offeredVersions = [...offered].map(parseVersion).filter((version): version is ParsedVersion => version !== null);
  const exact = canonicalVersion(trimmed);
  if (exact) {
    if (offeredVersions.some((version) => version.raw === exact)) return { kind: "exact", version: exact };
    return { kind: "not-offered", wanted: exact, nearby: nearbyVersions(parseVersion(exact)!, offeredVersions) };
  }

  const partial = partialVersion(trimmed);
  if (!partial) return { kind: "invalid", input };
  const builds = offeredVersions.filter((version) => version.raw.startsWith(`${partial}+`)).sort(compareK3sVersions);
  const newest = builds.at(-1);
  if (newest) return { kind: "newest-build", version: newest.raw, typed: partial };
  const wanted = parseVersion(`${partial}+k3s1`);
  return { kind: "not-offered", wanted: partial, nearby: wanted ? nearbyVersions(wanted, offeredVersions) : [] };
}

/** Lists offered versions of the same minor line, newest first, or the newest overall. */
function nearbyVersions(wanted: ParsedVersion, offered: ParsedVersion[]): string[] {
  const sameMinor = offered.filter((version) => version.major === wanted.major && version.minor === wanted.minor);
  const pool = sameMinor.length > 0 ? sameMinor : offered;
  return [...pool]
    .sort(compareK3sVersions)
    .reverse()
    .slice(0, NEARBY_LIMIT)
    .map((version) => version.raw);
}
