import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { requireAdmin } from "../auth";
import type { Config } from "../config";
import type { AppEnv } from "../env";
import { HttpError } from "../errors";
import { evaluatePolicy, type PolicyInput } from "../policy/evaluate";
import { CLUSTER_ID_PATTERN } from "../policy/schema";
import { readLivePolicyInput } from "../policy/service";
import { getCluster, listAllNodes, listClusterOffers, listClusters, listNodes, listReports, recordReportStatements, type StoredCluster, type StoredNode } from "../storage/inventory";
import { readVersion } from "../skew/facts";
import { classifyNodes, findViolations, nextSafeHop, serverMinorLimit, type NodeStatus } from "../skew/fleet";
import { describeReason } from "../skew/reasons";
import { readSkewInputs, runPreflight, type SkewInputs } from "../skew/service";
import { printable, singleValuedQuery } from "../install/query";
import { partialVersion, versionFromQuery } from "../versions";

export const MAX_REPORT_BODY_BYTES = 16 * 1024;
const REPORTS_PER_CLUSTER = 50;
const MAX_CLUSTERS_LISTED = 1000;

/** Node names: Kubernetes node names are DNS subdomains of at most 253 characters. */
const NODE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
const OUTCOME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The fleet API under /api/v1: the node-facing preflight check and install reports, and
 * the admin view of clusters. Mounted before the admin routes, so that their token check
 * does not cover the node-facing routes.
 */
export const fleetRoutes = new Hono<AppEnv>();

/**
 * Builds the schema of an optional query value. An empty value counts as absent, because
 * the install script sends `current=` on a fresh node. A rejected value is named in the message.
 */
function optionalQueryValue(isValid: (value: string) => boolean, expected: string, read: (value: string) => string = (value) => value.trim()) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === "") return null;
      const value = read(raw);
      if (isValid(value)) return value;
      ctx.addIssue({ code: "custom", message: `"${printable(raw)}" is invalid: ${expected}` });
      return z.NEVER;
    });
}

const VERSION_FORMS = "v1.33.6+k3s1, v1.33.6%2Bk3s1 or v1.33.6-k3s1";

const PreflightQuery = z.object({
  cluster: optionalQueryValue((value) => CLUSTER_ID_PATTERN.test(value), "a cluster id is 1 to 128 characters of [A-Za-z0-9._-]"),
  node: optionalQueryValue((value) => NODE_NAME_PATTERN.test(value), "a node name is [A-Za-z0-9._-], starting with a letter or digit"),
  role: optionalQueryValue((value) => value === "server" || value === "agent", 'use role=server or role=agent'),
  current: optionalQueryValue((value) => readVersion(value) !== null, `send the installed K3s version, like ${VERSION_FORMS}`, versionFromQuery),
  target: optionalQueryValue((value) => readVersion(value) !== null || partialVersion(value) !== null, `send a K3s version, like ${VERSION_FORMS} (or v1.33.6 for its newest published build)`, versionFromQuery),
});

fleetRoutes.get("/preflight", async (c) => {
  const single = singleValuedQuery(c.req.queries());
  if (!single.ok) throw new HttpError(400, single.message);
  const query = parseOrReject(PreflightQuery, single.values, "preflight request");

  const result = await runPreflight(
    c.env.DB,
    c.get("config"),
    { clusterId: query.cluster, node: query.node, role: (query.role ?? "server") as "server" | "agent", current: query.current, target: query.target },
    new Date().toISOString(),
  );
  if (!result.ok) {
    const problem = result.problem;
    switch (problem.kind) {
      case "target_missing":
        throw new HttpError(
          400,
          problem.clusterId === null
            ? "target is missing; pass target=<version>, or role=agent with cluster=<id> to get the servers' version"
            : `target is missing and the mirror knows no fresh server of cluster "${problem.clusterId}"; pass target=<version>`,
        );
      case "target_unpublished":
        throw new HttpError(400, `no published build of ${problem.target}; published in its minor: ${problem.available.join(", ") || "none"}`);
    }
  }

  const decision = result.decision;
  const text = describeReason(decision.reason);
  if (decision.reason.kind === "unparseable_version") throw new HttpError(400, text.message);
  // Keys in this order and compact, because the install script reads `"allowed":true` with grep.
  const body = { allowed: decision.allowed, reason: text.code, rule: text.rule, message: text.message, ladder: decision.ladder, target: decision.target };
  return c.body(`${JSON.stringify(body)}\n`, 200, { "Content-Type": "application/json" });
});

const OptionalVersion = z
  .string()
  .max(128)
  .nullable()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value === null || value.trim() === "") return null;
    const version = readVersion(value);
    if (version === null) {
      ctx.addIssue({ code: "custom", message: `"${value.slice(0, 80)}" is not a K3s version; send it like v1.33.6+k3s1, or null` });
      return z.NEVER;
    }
    return version.raw;
  });

const OverrideFlag = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0", ""])])
  .optional()
  .transform((value) => value === true || value === "true" || value === "1");

/** The install script's report, sent before and after each run. */
export const NodeReportBody = z
  .object({
    cluster: z.string().regex(CLUSTER_ID_PATTERN, "must be 1 to 128 characters of [A-Za-z0-9._-]"),
    node: z.string().regex(NODE_NAME_PATTERN, "must be a node name of [A-Za-z0-9._-], at most 253 characters"),
    role: z.enum(["server", "agent"], { message: 'must be "server" or "agent"' }),
    phase: z.enum(["before", "after"], { message: 'must be "before" or "after"' }),
    versionBefore: OptionalVersion,
    versionAfter: OptionalVersion,
    outcome: z.string().regex(OUTCOME_PATTERN, "must be 1 to 64 characters of [A-Za-z0-9._-], for example installed or failed"),
    overrideUsed: OverrideFlag,
  })
  .strict();

fleetRoutes.post(
  "/report",
  bodyLimit({
    maxSize: MAX_REPORT_BODY_BYTES,
    onError: () => {
      throw new HttpError(413, `report is larger than ${MAX_REPORT_BODY_BYTES} bytes; send only the report fields`);
    },
  }),
  async (c) => {
    let document: unknown;
    try {
      document = JSON.parse(await c.req.text());
    } catch {
      throw new HttpError(400, "report body is not JSON; send an object with cluster, node, role, phase, versionBefore, versionAfter, outcome, overrideUsed");
    }
    const report = parseOrReject(NodeReportBody, document, "report");

    await c.env.DB.batch(recordReportStatements(c.env.DB, report, new Date().toISOString()));
    return c.body(null, 204);
  },
);

fleetRoutes.get("/clusters", requireAdmin, async (c) => {
  const now = new Date().toISOString();
  const [clusters, nodes, inputs, policy] = await Promise.all([
    listClusters(c.env.DB),
    listAllNodes(c.env.DB),
    readSkewInputs(c.env.DB),
    readLivePolicyInput(c.env.DB, c.get("config"), Date.parse(now)),
  ]);
  const listed = clusters.slice(0, MAX_CLUSTERS_LISTED);
  const views = listed.map((cluster) => clusterView(c.get("config"), cluster, nodes.get(cluster.id) ?? [], inputs, policy.input, now));
  return c.json({ clusters: views, truncated: clusters.length > listed.length });
});

fleetRoutes.get("/clusters/:id", requireAdmin, async (c) => {
  const id = c.req.param("id");
  if (!CLUSTER_ID_PATTERN.test(id)) throw new HttpError(400, `"${id.slice(0, 80)}" is not a cluster id; ids are 1 to 128 characters of [A-Za-z0-9._-]`);

  const now = new Date().toISOString();
  const [cluster, nodes, inputs, policy, offers, reports] = await Promise.all([
    getCluster(c.env.DB, id),
    listNodes(c.env.DB, id),
    readSkewInputs(c.env.DB),
    readLivePolicyInput(c.env.DB, c.get("config"), Date.parse(now)),
    listClusterOffers(c.env.DB, id),
    listReports(c.env.DB, id, REPORTS_PER_CLUSTER),
  ]);
  if (!cluster) throw new HttpError(404, `cluster "${id}" is not in the inventory; it appears once a node reports or a Plan asks for a channel`);

  const view = clusterView(c.get("config"), cluster, nodes, inputs, policy.input, now);
  return c.json({ ...view, offers, reports });
});

/** Builds a cluster's admin view: nodes with stale flags, rule violations and the next safe hop. */
function clusterView(config: Config, cluster: StoredCluster, nodes: readonly StoredNode[], inputs: SkewInputs, policy: PolicyInput, now: string) {
  const classified = classifyNodes(cluster.id, nodes, now, config.nodeStaleAfterMs);
  const effective = evaluatePolicy(policy, cluster.id);
  const channel = effective.channels.find((candidate) => candidate.name === effective.defaultChannel);
  const nextHop = channel?.version ? nextSafeHop(classified.facts, channel.name, channel.version, inputs.published, inputs.hopRules, now) : null;

  const show = (node: NodeStatus) => ({ name: node.name, version: node.version, lastSeenAt: node.lastSeenAt, stale: node.stale });
  return {
    id: cluster.id,
    firstSeenAt: cluster.firstSeenAt,
    lastSeenAt: cluster.lastSeenAt,
    sucLatestVersion: cluster.sucLatestVersion,
    sucSeenAt: cluster.sucSeenAt,
    servers: classified.nodes.filter((node) => node.role === "server").map(show),
    agents: classified.nodes.filter((node) => node.role === "agent").map(show),
    violations: findViolations(classified.facts),
    serverMinorLimit: serverMinorLimit(classified.facts),
    nextHop,
  };
}

function parseOrReject<T extends z.ZodType>(schema: T, value: unknown, subject: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join(".");
  const message = issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : issue.message;
  throw new HttpError(400, `${subject} rejected: ${field ? `${field}: ` : ""}${message}`, "InvalidInput", parsed.error.issues.map((entry) => ({ field: entry.path.join("."), message: entry.message })));
}
