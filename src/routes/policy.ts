import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { z } from "zod";
import { requireAdmin } from "../auth";
import { refreshChannelStates } from "../channels/service";
import type { AppEnv } from "../env";
import { HttpError } from "../errors";
import { printable, singleValuedQuery } from "../install/query";
import { preparePolicyChange, type PreparedChange } from "../policy/change";
import { diffPolicies } from "../policy/diff";
import { evaluatePolicy } from "../policy/evaluate";
import { CLUSTER_ID_PATTERN, EMPTY_POLICY, parsePolicyDocument, policyJsonSchema, type PolicyDocument, type PolicyProblem } from "../policy/schema";
import { readLivePolicyInput, type LivePolicyInput } from "../policy/service";
import { getPolicyRevision, insertPolicyRevisionStatement, listPolicyRevisions, policyAdminLogStatement, type PolicyRevision, type PolicyRevisionSummary } from "../storage/policy";

export const MAX_POLICY_BODY_BYTES = 256 * 1024;
const MAX_COMMENT_LENGTH = 1000;
const HISTORY_PAGE_DEFAULT = 50;
const HISTORY_PAGE_MAX = 500;

/**
 * The org policy API under /api/v1/policy. The JSON Schema is public; everything else
 * needs an admin token, and every change is stored as a new revision and logged.
 */
export const policyRoutes = new Hono<AppEnv>();

// Registered before the admin check, so editors and the CLI can fetch it without a token.
policyRoutes.get("/schema", (c) => c.json(policyJsonSchema()));

policyRoutes.use("*", requireAdmin);
// A parameter given twice (two baseRevision values, say) is rejected rather than read as either one.
policyRoutes.use("*", async (c, next) => {
  const single = singleValuedQuery(c.req.queries());
  if (!single.ok) throw new HttpError(400, single.message);
  await next();
});
policyRoutes.use(
  "*",
  bodyLimit({
    maxSize: MAX_POLICY_BODY_BYTES,
    onError: () => {
      throw new HttpError(413, `policy document is larger than ${MAX_POLICY_BODY_BYTES} bytes; shorten it`);
    },
  }),
);

/** A whole number, as a JSON number or as decimal digits in a query or path; `0x10` and `1e3` are rejected. */
const WholeNumber = z.union([z.number(), z.string().regex(/^\d{1,15}$/, "must be a whole number in decimal digits").transform(Number)]).pipe(z.number().int());
const RevisionId = WholeNumber.pipe(z.number().positive());
const Flag = z.enum(["true", "false", "1", "0"]).transform((value) => value === "true" || value === "1");

const ChangeQuery = z.object({
  comment: z.string().max(MAX_COMMENT_LENGTH).default(""),
  allowPending: Flag.default(false),
  baseRevision: RevisionId.optional(),
});

policyRoutes.get("/", async (c) => {
  const live = await readLive(c);
  const body = { revision: summaryOf(live.revision), policy: live.revision?.document ?? EMPTY_POLICY };
  if (c.req.query("format") === "yaml") return c.body(stringifyYaml(body.policy), 200, { "Content-Type": "application/yaml; charset=utf-8" });
  return c.json(body);
});

policyRoutes.put("/", async (c) => {
  const query = parseQuery(ChangeQuery, c);
  const draft = parseBody(await c.req.text());
  const live = await readLive(c);
  if (query.baseRevision !== undefined && query.baseRevision !== (live.revision?.id ?? null)) {
    throw new HttpError(409, `policy change based on revision ${query.baseRevision}, but revision ${live.revision?.id ?? "(none)"} is live; fetch the policy again and reapply`);
  }
  const prepared = prepare(c, live, draft, query.allowPending);
  if (!prepared.ok) throw rejection(prepared.problems, prepared.warnings);
  return storeRevision(c, live, prepared, { comment: query.comment, rollbackOf: null, action: "policy.update" });
});

policyRoutes.post("/validate", async (c) => {
  const query = parseQuery(ChangeQuery.pick({ allowPending: true }), c);
  const document = decodeDocument(await c.req.text());
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) return c.json({ valid: false, problems: parsed.problems, warnings: [] });

  const live = await readLive(c);
  const prepared = prepare(c, live, parsed.policy, query.allowPending);
  if (!prepared.ok) return c.json({ valid: false, problems: prepared.problems, warnings: prepared.warnings });
  const effective = evaluatePolicy({ ...live.input, policy: prepared.policy }, null);
  return c.json({ valid: true, problems: [], warnings: prepared.warnings, policy: prepared.policy, effective });
});

policyRoutes.get("/effective", async (c) => {
  const { cluster } = parseQuery(z.object({ cluster: z.string().regex(CLUSTER_ID_PATTERN, "must be a cluster id of 1 to 128 characters [A-Za-z0-9._-]").optional() }), c);
  const live = await readLive(c);
  return c.json({ revision: live.revision?.id ?? null, cluster: cluster ?? null, ...evaluatePolicy(live.input, cluster ?? null) });
});

policyRoutes.get("/history", async (c) => {
  const query = parseQuery(z.object({ limit: WholeNumber.pipe(z.number().min(1).max(HISTORY_PAGE_MAX)).default(HISTORY_PAGE_DEFAULT), before: RevisionId.optional() }), c);
  const revisions = await listPolicyRevisions(c.env.DB, query.limit, query.before ?? null);
  return c.json({ revisions });
});

policyRoutes.get("/revisions/:id", async (c) => {
  const revision = await requireRevision(c, parseId(c.req.param("id"), "id"));
  if (c.req.query("format") === "yaml") return c.body(stringifyYaml(revision.document), 200, { "Content-Type": "application/yaml; charset=utf-8" });
  return c.json({ revision: summaryOf(revision), policy: revision.document });
});

policyRoutes.get("/diff", async (c) => {
  const from = c.req.query("from");
  const to = c.req.query("to");
  if (from === undefined) throw new HttpError(400, "missing from; use /api/v1/policy/diff?from=<revision id>&to=<revision id> (to defaults to the live revision, 0 is the empty policy)");
  const fromDocument = await documentAt(c, from, "from");
  const toDocument = to === undefined ? ((await readLive(c)).revision?.document ?? EMPTY_POLICY) : await documentAt(c, to, "to");
  return c.json({ from: Number(from), to: to === undefined ? "live" : Number(to), changes: diffPolicies(fromDocument, toDocument) });
});

const RollbackRequest = z.object({ revision: RevisionId, comment: z.string().max(MAX_COMMENT_LENGTH).optional() }).strict();

policyRoutes.post("/rollback", async (c) => {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new HttpError(400, 'rollback body is not JSON; send {"revision": <id>, "comment": "..."}');
  }
  const parsed = RollbackRequest.safeParse(body);
  if (!parsed.success) throw new HttpError(400, `invalid rollback request: ${describeIssues(parsed.error.issues)}; send {"revision": <id>, "comment": "..."}`);

  const target = await requireRevision(c, parsed.data.revision);
  const live = await readLive(c);
  // Pending pins of the old revision carry whilePending, so they stay accepted as they were.
  const prepared = prepare(c, live, target.document, false);
  if (!prepared.ok) throw rejection(prepared.problems, prepared.warnings, `revision ${target.id} no longer fits the mirror's state`);
  const comment = parsed.data.comment ?? `roll back to revision ${target.id}`;
  return storeRevision(c, live, prepared, { comment, rollbackOf: target.id, action: "policy.rollback" });
});

async function readLive(c: Context<AppEnv>): Promise<LivePolicyInput> {
  return readLivePolicyInput(c.env.DB, c.get("config"), Date.now());
}

function prepare(c: Context<AppEnv>, live: LivePolicyInput, draft: PolicyDocument, allowPending: boolean): PreparedChange {
  return preparePolicyChange({
    draft,
    live: live.revision?.document ?? EMPTY_POLICY,
    facts: live.input,
    configDefaultChannel: c.get("config").defaultChannel,
    now: new Date(live.input.nowMs).toISOString(),
    allowPending,
  });
}

/**
 * Stores a prepared policy as the new live revision with its admin log entry, then
 * recomputes channel states (blocked versions change what channels may answer).
 * A change identical to the live policy stores nothing.
 */
async function storeRevision(
  c: Context<AppEnv>,
  live: LivePolicyInput,
  prepared: Extract<PreparedChange, { ok: true }>,
  meta: { comment: string; rollbackOf: number | null; action: string },
) {
  const liveDocument = live.revision?.document ?? EMPTY_POLICY;
  const changes = diffPolicies(liveDocument, prepared.policy);
  if (changes.length === 0 && meta.rollbackOf === null) {
    return c.json({ changed: false, revision: summaryOf(live.revision), policy: liveDocument, warnings: prepared.warnings, changes });
  }

  const now = new Date().toISOString();
  const author = c.get("adminLabel");
  const [insert] = await c.env.DB.batch([
    insertPolicyRevisionStatement(c.env.DB, { document: prepared.policy, author, comment: meta.comment, createdAt: now, rollbackOf: meta.rollbackOf }, live.revision?.id ?? null),
    policyAdminLogStatement(c.env.DB, author, meta.action, { basedOn: live.revision?.id ?? null, rollbackOf: meta.rollbackOf, comment: meta.comment, changes: changes.map((change) => change.path) }, now),
  ]);
  if (!insert || insert.meta.changes !== 1) {
    throw new HttpError(409, "the policy changed while this change was being checked; fetch it again and reapply");
  }

  const revision = await requireRevision(c, insert.meta.last_row_id);
  await refreshChannelStates(c.env.DB, c.get("config"), now);
  const after = await readLive(c);
  return c.json({ changed: true, revision: summaryOf(revision), policy: revision.document, warnings: prepared.warnings, changes, effective: evaluatePolicy(after.input, null) });
}

function decodeDocument(text: string): unknown {
  if (text.trim() === "") throw new HttpError(400, "policy body is empty; send the policy document as JSON or YAML");
  try {
    return parseYaml(text, { maxAliasCount: 0 });
  } catch (error) {
    throw new HttpError(400, `policy body is not valid JSON or YAML: ${(error as Error).message.split("\n")[0]}`, "InvalidPolicy");
  }
}

function parseBody(text: string): PolicyDocument {
  const parsed = parsePolicyDocument(decodeDocument(text));
  if (!parsed.ok) throw rejection(parsed.problems, []);
  return parsed.policy;
}

function rejection(problems: PolicyProblem[], warnings: PolicyProblem[], lead = "policy rejected"): HttpError {
  const summary = problems.map((problem) => `${problem.field}: ${problem.message}`).join("; ");
  return new HttpError(400, `${lead}, nothing was stored: ${summary}`, "InvalidPolicy", { problems, warnings });
}

function parseQuery<T extends z.ZodType>(schema: T, c: Context<AppEnv>): z.infer<T> {
  const values = c.req.query();
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const described = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "");
      return `${name}="${printable(values[name] ?? "")}" ${issue.message}`;
    });
    throw new HttpError(400, `invalid query parameter ${described.join("; ")}`);
  }
  return parsed.data;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${issue.path.join(".") || "(body)"} ${issue.message}`).join("; ");
}

function parseId(value: string, name: string): number {
  const parsed = RevisionId.safeParse(value);
  if (!parsed.success) throw new HttpError(400, `${name} "${value.slice(0, 40)}" is not a revision id; use a positive integer from /api/v1/policy/history`);
  return parsed.data;
}

async function requireRevision(c: Context<AppEnv>, id: number): Promise<PolicyRevision> {
  const revision = await getPolicyRevision(c.env.DB, id);
  if (!revision) throw new HttpError(404, `policy revision ${id} does not exist; list revisions with GET /api/v1/policy/history`);
  return revision;
}

/** Reads a revision's document for a diff; revision 0 is the empty policy in force before the first. */
async function documentAt(c: Context<AppEnv>, value: string, name: string): Promise<PolicyDocument> {
  if (value === "0") return EMPTY_POLICY;
  return (await requireRevision(c, parseId(value, name))).document;
}

function summaryOf(revision: PolicyRevision | null): PolicyRevisionSummary | null {
  if (!revision) return null;
  const { document: _document, ...summary } = revision;
  return summary;
}
