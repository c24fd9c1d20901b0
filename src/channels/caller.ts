import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { HttpError } from "../errors";
import { printable } from "../install/query";
import { CLUSTER_ID_PATTERN } from "../policy/schema";
import { canonicalVersion, versionFromQuery } from "../versions";
import type { Caller } from "./answer";

/** The caller of a channel request, as every channel endpoint reads it. */
export type ChannelCaller = Caller & {
  readonly role: "server" | "agent" | null;
  /** Whether the version came from system-upgrade-controller's X-SUC-Latest-Version header. */
  readonly fromUpgradeController: boolean;
};

const CLUSTER_ID_FORM = "a cluster id is 1 to 128 characters of [A-Za-z0-9._-]";
const ROLE_FORM = "use role=server or role=agent";
const VERSION_FORM = "send a complete K3s version, like v1.33.6+k3s1, v1.33.6%2Bk3s1 or v1.33.6-k3s1";

const ClusterIdValue = z.string().regex(CLUSTER_ID_PATTERN, CLUSTER_ID_FORM);
const RoleValue = z.enum(["server", "agent"], { message: ROLE_FORM });
const VersionValue = z.string().transform((value, ctx) => {
  const canonical = canonicalVersion(value);
  if (canonical !== null) return canonical;
  ctx.addIssue({ code: "custom", message: VERSION_FORM });
  return z.NEVER;
});

/** A value as the request sent it, and where: a header or a query parameter. */
type Sent = { readonly where: string; readonly raw: string; readonly value: string };

/**
 * Reads the caller of a channel request, with one rule for every channel endpoint.
 * The cluster id comes from X-SUC-Cluster-ID or `cluster`. The version comes from
 * X-SUC-Latest-Version (whose `+` arrives as `-`) or `current` (whose literal `+` arrives
 * as a space). The role comes from `role`. A blank value counts as absent, because the
 * install script sends `current=` on a fresh node. A malformed value is a 400 naming it and
 * the expected form, because answering as if it were absent could skip a minor.
 *
 * @example readChannelCaller(c) // { clusterId: "prod", currentVersion: "v1.30.2+k3s1", role: null, fromUpgradeController: true }
 */
export function readChannelCaller(c: Context<AppEnv>): ChannelCaller {
  for (const name of ["cluster", "role", "current"]) {
    const count = c.req.queries(name)?.length ?? 0;
    if (count > 1) throw new HttpError(400, `query parameter "${name}" is given ${count} times; give it once`);
  }

  const cluster = sent(c, "X-SUC-Cluster-ID", "cluster", (value) => value.trim());
  const version = sent(c, "X-SUC-Latest-Version", "current", versionFromQuery);
  const role = sent(c, null, "role", (value) => value.trim());

  return {
    clusterId: cluster && check(ClusterIdValue, cluster),
    currentVersion: version && check(VersionValue, version),
    role: role && check(RoleValue, role),
    fromUpgradeController: version !== null && version.where.startsWith("header"),
  };
}

/** Returns the header's value when it is not blank, else the query parameter's, else null. */
function sent(c: Context<AppEnv>, header: string | null, parameter: string, readQuery: (value: string) => string): Sent | null {
  const fromHeader = header === null ? undefined : c.req.header(header);
  if (fromHeader !== undefined && fromHeader.trim() !== "") return { where: `header ${header}`, raw: fromHeader, value: fromHeader.trim() };
  const fromQuery = c.req.query(parameter);
  if (fromQuery !== undefined && fromQuery.trim() !== "") return { where: `query parameter ${parameter}`, raw: fromQuery, value: readQuery(fromQuery) };
  return null;
}

function check<T>(schema: z.ZodType<T>, value: Sent): T {
  const parsed = schema.safeParse(value.value);
  if (parsed.success) return parsed.data;
  const expected = parsed.error.issues[0]!.message;
  throw new HttpError(400, `${value.where} "${printable(value.raw)}" is invalid: ${expected}`, "InvalidInput", [{ field: value.where, value: printable(value.raw), expected }]);
}
