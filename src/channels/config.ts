import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { compileChannelRegexp } from "./re2";
import { parseTolerant } from "./resolve";

/** Channel names the mirror accepts in configs and URLs. */
export const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9._+-]{1,64}$/;

/**
 * One channel of a channelserver config. A channel with `latest` is pinned; one with
 * `latestRegexp` resolves over the known releases; one with neither follows the
 * upstream channel server's channel of the same name (a mirror extension: upstream's
 * own configs always set one of the two).
 */
export const ChannelSpec = z
  .object({
    name: z.string().regex(CHANNEL_NAME_PATTERN, "must be 1 to 64 characters of [A-Za-z0-9._+-]"),
    latest: z.string().min(1).max(128).optional(),
    latestRegexp: z.string().min(1).optional(),
    excludeRegexp: z.string().min(1).optional(),
  })
  .strict();
export type ChannelSpec = z.infer<typeof ChannelSpec>;

/** A channel config in the YAML format of rancher/channelserver. */
export const ChannelConfig = z
  .object({
    channels: z.array(ChannelSpec).max(500),
    github: z.object({ owner: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/), repo: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/) }).optional(),
    redirectBase: z.string().optional(),
  })
  .passthrough();
export type ChannelConfig = z.infer<typeof ChannelConfig>;

export type ConfigProblem = { channel: string | null; field: string; message: string };
export type ConfigParse = { ok: true; config: ChannelConfig } | { ok: false; problems: ConfigProblem[] };

/**
 * Parses and validates a channel config given as YAML or JSON text. Every problem is
 * listed with the channel it belongs to, so the caller can reject the whole config.
 */
export function parseChannelConfig(text: string): ConfigParse {
  let document: unknown;
  try {
    document = parseYaml(text, { maxAliasCount: 0 });
  } catch (error) {
    return { ok: false, problems: [{ channel: null, field: "(document)", message: `not valid YAML or JSON: ${(error as Error).message.split("\n")[0]}` }] };
  }

  const parsed = ChannelConfig.safeParse(document);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((issue) => describeIssue(document, issue)) };
  }

  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const channel of parsed.data.channels) {
    if (seen.has(channel.name)) problems.push({ channel: channel.name, field: "name", message: "is listed more than once" });
    seen.add(channel.name);
    if (channel.latest !== undefined && parseTolerant(channel.latest) === null) {
      problems.push({ channel: channel.name, field: "latest", message: `${JSON.stringify(channel.latest)} is not a version; pin a release tag such as v1.33.6+k3s1` });
    }
    for (const field of ["latestRegexp", "excludeRegexp"] as const) {
      const pattern = channel[field];
      if (pattern === undefined) continue;
      const check = compileChannelRegexp(pattern);
      if (!check.ok) problems.push({ channel: channel.name, field, message: `invalid regexp ${JSON.stringify(pattern)}: ${check.reason}` });
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: parsed.data };
}

function describeIssue(document: unknown, issue: z.core.$ZodIssue): ConfigProblem {
  const [top, index, field] = issue.path;
  if (top === "channels" && typeof index === "number") {
    const entry = (document as { channels?: Array<{ name?: unknown }> }).channels?.[index];
    const name = typeof entry?.name === "string" ? entry.name : `#${index + 1}`;
    const unknownKeys = issue.code === "unrecognized_keys" ? `: ${issue.keys.join(", ")}` : "";
    return { channel: name, field: field === undefined ? "(channel)" : String(field), message: `${issue.message}${unknownKeys}` };
  }
  return { channel: null, field: issue.path.join(".") || "(document)", message: issue.message };
}

/** Formats problems as one line each, for error messages and the CLI. */
export function describeProblems(problems: ConfigProblem[]): string {
  return problems.map((problem) => `${problem.channel ? `channel "${problem.channel}"` : "config"} field ${problem.field}: ${problem.message}`).join("; ");
}
