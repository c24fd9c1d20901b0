/**
 * Org channel policy: the document's schema, its pure evaluation and the checks a change
 * must pass. Storage is in src/storage/policy.ts and the admin API in src/routes/policy.ts.
 */
export { findBlock, isBlocked, type BlockMatch } from "./blocked";
export { findClusterGroup, globMatches, globsOverlap, type GroupMatch } from "./clusters";
export { inputFor, preparePolicyChange, type PolicyChange, type PreparedChange } from "./change";
export { diffPolicies, type PolicyDiffEntry } from "./diff";
export { activeFreeze, evaluateForGroup, evaluatePolicy, newestInRange, type BaseChannel, type EffectiveChannel, type EffectivePolicy, type MirrorFacts, type PolicyInput, type Reason } from "./evaluate";
export { effectiveDefaultChannel, readEffectivePolicy, readLivePolicyInput } from "./service";
export * from "./schema";
