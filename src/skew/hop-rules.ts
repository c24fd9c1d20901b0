import { z } from "zod";
import { canonicalVersion, compareK3sVersions, parseVersion, partialVersion, type ParsedVersion } from "../versions";

const MINOR_LINE_PATTERN = /^v?(\d{1,3})\.(\d{1,3})$/;
const MAX_HOP_REASON_LENGTH = 500;

/** Printable text without `"` or `\`, because install scripts on nodes read reasons from compact JSON with sed. */
export const REASON_TEXT_PATTERN = /^[^"\\\x00-\x1f\x7f]*$/;

/**
 * A minimum-source rule for one hop between minor versions, as policy data: to go from
 * minor `from` to minor `to` a server must already run at least `minimumSource`.
 *
 * @example { from: "v1.33", to: "v1.34", minimumSource: "v1.33.6+k3s1", reason: "etcd 3.6 needs etcd 3.5.26 first" }
 */
export type HopRule = {
  readonly from: string;
  readonly to: string;
  readonly minimumSource: string;
  readonly reason: string;
};

const MinorLine = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const match = MINOR_LINE_PATTERN.exec(value);
    if (!match) {
      ctx.addIssue({ code: "custom", message: `"${value}" is not a minor version; write it like v1.33` });
      return z.NEVER;
    }
    return `v${Number(match[1])}.${Number(match[2])}`;
  });

/** A minimum source in any accepted spelling; a version without build suffix means its first build. */
const MinimumSource = z
  .string()
  .trim()
  .max(128)
  .transform((value, ctx) => {
    const exact = canonicalVersion(value);
    if (exact !== null) return exact;
    const partial = partialVersion(value);
    if (partial !== null) return `${partial}+k3s1`;
    ctx.addIssue({ code: "custom", message: `"${value}" is not a K3s version; write it like v1.33.6+k3s1 or v1.33.6` });
    return z.NEVER;
  });

/** Schema of one hop rule in the policy document's `hopRules` list. */
export const HopRuleSchema = z
  .object({
    from: MinorLine.describe("The source minor version, for example v1.33."),
    to: MinorLine.describe("The next minor version, for example v1.34."),
    minimumSource: MinimumSource.describe("The oldest version of the source minor that may make the hop, for example v1.33.6+k3s1."),
    reason: z
      .string()
      .trim()
      .min(1, "must say why the hop needs this source")
      .max(MAX_HOP_REASON_LENGTH)
      .regex(REASON_TEXT_PATTERN, "must be printable text without double quotes or backslashes (use single quotes)"),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const from = MINOR_LINE_PATTERN.exec(rule.from);
    const to = MINOR_LINE_PATTERN.exec(rule.to);
    const source = parseVersion(rule.minimumSource);
    if (!from || !to || !source) return;
    if (Number(to[1]) !== Number(from[1]) || Number(to[2]) !== Number(from[2]) + 1) {
      ctx.addIssue({ code: "custom", path: ["to"], message: `must be the minor after ${rule.from}, because a server moves one minor per upgrade` });
    }
    if (`v${source.major}.${source.minor}` !== rule.from) {
      ctx.addIssue({ code: "custom", path: ["minimumSource"], message: `must be a ${rule.from} version, because the rule is about leaving ${rule.from}` });
    }
  });

/** Schema of the policy document's `hopRules` list. */
export const HopRuleList = z.array(HopRuleSchema).max(200);

/** A hop rule with its versions parsed, ready for comparisons. */
export type CompiledHopRule = HopRule & { readonly minimumSourceVersion: ParsedVersion };

/** Parses each rule's minimum source once; rules whose source does not parse are dropped. */
export function compileHopRules(rules: readonly HopRule[]): CompiledHopRule[] {
  const compiled: CompiledHopRule[] = [];
  for (const rule of rules) {
    const canonical = canonicalVersion(rule.minimumSource);
    const minimumSourceVersion = canonical === null ? null : parseVersion(canonical);
    if (minimumSourceVersion) compiled.push({ ...rule, minimumSourceVersion });
  }
  return compiled;
}

/**
 * Returns the strictest rule for the hop from `source` into the next minor that `source`
 * does not satisfy, or null when every rule for that hop is met.
 */
export function unmetHopRule(rules: readonly CompiledHopRule[], source: ParsedVersion, toMinor: number): CompiledHopRule | null {
  const from = `v${source.major}.${source.minor}`;
  const to = `v${source.major}.${toMinor}`;
  let strictest: CompiledHopRule | null = null;
  for (const rule of rules) {
    if (rule.from !== from || rule.to !== to) continue;
    if (compareK3sVersions(source, rule.minimumSourceVersion) >= 0) continue;
    if (!strictest || compareK3sVersions(rule.minimumSourceVersion, strictest.minimumSourceVersion) > 0) strictest = rule;
  }
  return strictest;
}
