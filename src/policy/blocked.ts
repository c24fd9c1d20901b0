import semver from "semver";
import { canonicalVersion, parseVersion } from "../versions";
import type { BlockedEntry, PolicyDocument } from "./schema";

/** The policy entry that blocks a version, and the reason to show. */
export type BlockMatch = {
  readonly version: string;
  readonly reason: string;
  /** The entry as written: `v1.30.3+k3s1` or the range `>=1.30.0 <1.30.4`. */
  readonly rule: string;
};

/**
 * Returns the first blocked-list entry that covers `version`, or null. An exact entry
 * matches that build only; a range matches every build of the versions in it,
 * pre-releases included. The version may be in any accepted spelling.
 */
export function findBlock(policy: Pick<PolicyDocument, "blocked">, version: string): BlockMatch | null {
  const canonical = canonicalVersion(version);
  if (canonical === null) return null;
  for (const entry of policy.blocked ?? []) {
    if (entryCovers(entry, canonical)) return { version: canonical, reason: entry.reason, rule: entry.version ?? entry.range! };
  }
  return null;
}

/** Whether the policy blocks `version` (any accepted spelling). */
export function isBlocked(policy: Pick<PolicyDocument, "blocked">, version: string): boolean {
  return findBlock(policy, version) !== null;
}

function entryCovers(entry: BlockedEntry, canonical: string): boolean {
  if (entry.version !== undefined) return entry.version === canonical;
  const parsed = parseVersion(canonical);
  if (!parsed || entry.range === undefined) return false;
  const plain = `${parsed.major}.${parsed.minor}.${parsed.patch}${parsed.prerelease ? `-${parsed.prerelease}` : ""}`;
  return semver.satisfies(plain, entry.range, { includePrerelease: true });
}
