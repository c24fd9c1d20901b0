import semver from "semver";

/**
 * K3s version strings: `v<major>.<minor>.<patch>[-<pre>]+k3s<N>`.
 *
 * Clients spell the build separator three ways: a literal `+` (the k3s installer),
 * `%2B` (newer installers, RKE2) and `-k3sN` (system-upgrade-controller image tags,
 * the China mirror's fork). `canonicalVersion` maps all three to the `+` spelling.
 */

/** Exact K3s version in canonical spelling, for example `v1.33.6+k3s1` or `v1.26.2-rc1+k3s1`. */
export const K3S_VERSION_PATTERN = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+?)?\+k3s([1-9]\d*)$/;

/** A version typed without its build suffix: `1.28.5`, `v1.28.5`, `v1.26.2-rc1`. */
const PARTIAL_VERSION_PATTERN = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-(?:alpha|beta|rc)\d*)?$/;

export type ParsedVersion = {
  readonly raw: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: string | null;
  readonly build: number;
};

/**
 * Returns the canonical `+k3sN` spelling of a version given in any accepted spelling,
 * or null when it is not a complete K3s version.
 *
 * @example canonicalVersion("v1.28.5%2Bk3s1") // "v1.28.5+k3s1"
 * @example canonicalVersion("v1.28.5-k3s1")   // "v1.28.5+k3s1"
 */
export function canonicalVersion(input: string): string | null {
  let value = input.trim();
  value = value.replace(/%2B/gi, "+");
  if (!value.startsWith("v")) value = `v${value}`;
  if (!value.includes("+")) value = value.replace(/-(k3s[1-9]\d*)$/, "+$1");
  return K3S_VERSION_PATTERN.test(value) ? value : null;
}

/**
 * Reads a version typed into a query string. A query string encodes a space as `+`, so
 * `?current=v1.33.6+k3s1` arrives as `v1.33.6 k3s1`; this puts the `+` back.
 *
 * @example versionFromQuery("v1.33.6 k3s1") // "v1.33.6+k3s1"
 */
export function versionFromQuery(value: string): string {
  return value.trim().replace(/ (k3s[1-9]\d*)$/, "+$1");
}

/** Parses a canonical K3s version; returns null for anything else. */
export function parseVersion(version: string): ParsedVersion | null {
  const match = K3S_VERSION_PATTERN.exec(version);
  if (!match) return null;
  return {
    raw: version,
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3]),
    prerelease: match[4] ? match[4].slice(1) : null,
    build: Number(match[5]),
  };
}

/**
 * Parses a version typed without a build suffix (`1.28.5`, `v1.28.5`) into its
 * `vX.Y.Z[-pre]` prefix, or returns null.
 */
export function partialVersion(input: string): string | null {
  const match = PARTIAL_VERSION_PATTERN.exec(input.trim());
  if (!match) return null;
  return `v${match[1]}.${match[2]}.${match[3]}${match[4] ?? ""}`;
}

/**
 * Orders two canonical K3s versions: SemVer precedence first, then the K3s build
 * number, so `v1.25.16+k3s4` sorts after `v1.25.16+k3s1`.
 */
export function compareK3sVersions(a: ParsedVersion, b: ParsedVersion): number {
  const bySemver = semver.compare(toSemver(a), toSemver(b));
  if (bySemver !== 0) return bySemver;
  return a.build - b.build;
}

function toSemver(version: ParsedVersion): string {
  const base = `${version.major}.${version.minor}.${version.patch}`;
  return version.prerelease ? `${base}-${version.prerelease}` : base;
}
