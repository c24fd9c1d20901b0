import { z } from "zod";
import { ARCHES, type Arch } from "../config";
import { CLUSTER_ID_PATTERN } from "../policy/schema";
import { canonicalVersion, partialVersion, versionFromQuery } from "../versions";
import { MAX_VERSION_INPUT_LENGTH } from "./resolve-version";

/** Channel names as the channel config allows them. */
export const INSTALL_CHANNEL_PATTERN = /^[A-Za-z0-9._+-]{1,64}$/;

const EXPECTED_VERSION_FORM = "v1.33.6+k3s1 (also accepted: 1.33.6, v1.33.6, v1.33.6-k3s1, v1.33.6%2Bk3s1)";

/** Reads a version query value; a literal `+` arrives as a space and is read back as `+`. */
const versionValue = z
  .string()
  .transform(versionFromQuery)
  .refine((value) => value.length <= MAX_VERSION_INPUT_LENGTH && (canonicalVersion(value) !== null || partialVersion(value) !== null), {
    message: `must be a K3s version like ${EXPECTED_VERSION_FORM}`,
  });

/** Query parameters of `GET /` and `/install.sh`. */
export const InstallQuery = z
  .object({
    channel: z.string().regex(INSTALL_CHANNEL_PATTERN, "must be a channel name of 1 to 64 characters [A-Za-z0-9._+-], for example stable or v1.33").optional(),
    version: versionValue.optional(),
    cluster: z.string().regex(CLUSTER_ID_PATTERN, "must be a cluster id of 1 to 128 characters [A-Za-z0-9._-]").optional(),
  })
  .strict()
  .refine((query) => !(query.channel && query.version), { message: "channel and version exclude each other: a version pins the install, so give one of them" });
export type InstallQuery = z.infer<typeof InstallQuery>;

/** Query parameters of `GET /api/v1/versions/resolve`. */
export const ResolveQuery = z
  .object({
    version: z.string().max(200),
    arch: z.enum(ARCHES as [Arch, ...Arch[]], { message: `must be one of ${ARCHES.join(", ")}` }).optional(),
    cluster: z.string().regex(CLUSTER_ID_PATTERN, "must be a cluster id of 1 to 128 characters [A-Za-z0-9._-]").optional(),
  })
  .strict();
export type ResolveQuery = z.infer<typeof ResolveQuery>;

/**
 * Reads a query string into single values. Returns an error message naming the
 * parameter when one is given twice, so that `?channel=a&channel=b` is not read as
 * either of them.
 */
export function singleValuedQuery(queries: Record<string, string[]>): { ok: true; values: Record<string, string> } | { ok: false; message: string } {
  const values: Record<string, string> = {};
  for (const [name, list] of Object.entries(queries)) {
    if (list.length > 1) return { ok: false, message: `query parameter "${printable(name)}" is given ${list.length} times; give it once` };
    values[name] = list[0] ?? "";
  }
  return { ok: true, values };
}

/**
 * Describes the first problem of a failed parse, naming the parameter and its value.
 * `accepted` completes the message for an unknown parameter.
 */
export function describeQueryProblem(error: z.ZodError, values: Record<string, string>, accepted = "the install script takes channel, version and cluster"): string {
  const issue = error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    return `unknown query parameter ${issue.keys.map((key) => `"${printable(key)}"`).join(", ")}; ${accepted}`;
  }
  const name = String(issue.path[0] ?? "");
  if (name === "") return issue.message;
  return `query parameter ${name}="${printable(values[name] ?? "")}" is invalid: it ${issue.message}`;
}

/** Shortens a request value and hides control characters, for a message. */
export function printable(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 80)}...` : value;
  return shown.replace(/[\u0000-\u001f\u007f]/g, "?");
}
