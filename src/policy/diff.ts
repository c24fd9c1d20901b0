import diff from "microdiff";
import { fieldPath } from "./schema";

/** One changed path between two policy documents. */
export type PolicyDiffEntry =
  | { readonly op: "add"; readonly path: string; readonly value: unknown }
  | { readonly op: "remove"; readonly path: string; readonly oldValue: unknown }
  | { readonly op: "change"; readonly path: string; readonly oldValue: unknown; readonly value: unknown };

/** Lists the paths that differ between two policy documents, as `channels.stable.pin` style paths. */
export function diffPolicies(from: object, to: object): PolicyDiffEntry[] {
  return diff(from as Record<string, unknown>, to as Record<string, unknown>).map((difference) => {
    const path = fieldPath(difference.path);
    if (difference.type === "CREATE") return { op: "add", path, value: difference.value };
    if (difference.type === "REMOVE") return { op: "remove", path, oldValue: difference.oldValue };
    return { op: "change", path, oldValue: difference.oldValue, value: difference.value };
  });
}
