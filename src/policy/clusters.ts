import type { ClusterGroup, PolicyDocument } from "./schema";

/** The cluster group a request falls in, and what matched it. */
export type GroupMatch = {
  readonly group: ClusterGroup;
  readonly matchedBy: { readonly kind: "id" } | { readonly kind: "pattern"; readonly pattern: string };
};

/**
 * Finds the group of a cluster id. An id listed in a group wins over every pattern;
 * otherwise the first group (in document order) with a matching pattern wins. Validation
 * ensures that groups whose patterns overlap agree, so the order does not change answers.
 */
export function findClusterGroup(policy: Pick<PolicyDocument, "clusterGroups">, clusterId: string | null): GroupMatch | null {
  if (clusterId === null) return null;
  const groups = policy.clusterGroups ?? [];
  for (const group of groups) {
    if (group.clusters?.includes(clusterId)) return { group, matchedBy: { kind: "id" } };
  }
  for (const group of groups) {
    const pattern = group.patterns?.find((candidate) => globMatches(candidate, clusterId));
    if (pattern !== undefined) return { group, matchedBy: { kind: "pattern", pattern } };
  }
  return null;
}

/** Matches a cluster pattern (`*` any run of characters, `?` one character) against a whole id. */
export function globMatches(pattern: string, id: string): boolean {
  // Two-pointer matching with backtracking to the last `*`: linear in practice, no RegExp.
  let p = 0;
  let i = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (i < id.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === id[i])) {
      p++;
      i++;
    } else if (p < pattern.length && pattern[p] === "*") {
      starAt = p++;
      resumeAt = i;
    } else if (starAt >= 0) {
      p = starAt + 1;
      i = ++resumeAt;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * Whether some cluster id matches both patterns. Explores pairs of positions in the two
 * patterns: a `*` may match nothing (advance past it) or one more character (stay), and
 * two non-star tokens must agree on one character.
 */
export function globsOverlap(a: string, b: string): boolean {
  const seen = new Set<number>();
  const stack: Array<[number, number]> = [[0, 0]];
  const width = b.length + 1;
  while (stack.length > 0) {
    const [i, j] = stack.pop()!;
    const key = i * width + j;
    if (seen.has(key)) continue;
    seen.add(key);
    if (i === a.length && j === b.length) return true;

    const tokenA = a[i];
    const tokenB = b[j];
    if (tokenA === "*") stack.push([i + 1, j]);
    if (tokenB === "*") stack.push([i, j + 1]);
    if (tokenA === undefined || tokenB === undefined) continue;
    if (tokenA === "*" && tokenB === "*") continue;
    // One character consumed by both: a star stays where it is, other tokens advance.
    const nextI = tokenA === "*" ? i : i + 1;
    const nextJ = tokenB === "*" ? j : j + 1;
    if (tokenA === "*" || tokenB === "*" || tokenA === "?" || tokenB === "?" || tokenA === tokenB) stack.push([nextI, nextJ]);
  }
  return false;
}
