/**
 * Manages a running mirror's org channel policy:
 *
 *   npm run policy -- get [--yaml]
 *   npm run policy -- validate policy.yaml [--offline] [--allow-pending]
 *   npm run policy -- apply policy.yaml --comment "pin stable for the rollout"
 *   npm run policy -- history
 *   npm run policy -- diff policy.yaml       (file against the live policy)
 *   npm run policy -- diff 4 7               (two stored revisions)
 *   npm run policy -- rollback 4 --comment "undo the pin"
 *
 * The mirror is MIRROR_URL (default http://127.0.0.1:8787); ADMIN_TOKEN authenticates.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { diffPolicies, type PolicyDiffEntry } from "../src/policy/diff";
import { parsePolicyDocument, policyJsonSchema, type PolicyProblem } from "../src/policy/schema";
import { adminClientFromEnv, expectOk } from "./lib/admin-client";

const USAGE = `Usage: npm run policy -- <command> [options]

Commands:
  get [--yaml] [--revision N]   print the live policy (or revision N)
  validate FILE [--offline]     check a policy file: with --offline against the schema only,
                                otherwise against the mirror's channels and published versions
  apply FILE                    store FILE as the new live policy; the mirror rejects it,
                                storing nothing, when a check fails
  history [--limit N]           list revisions, newest first
  diff FILE                     show what applying FILE would change in the live policy
  diff FROM [TO]                show what changed between two revisions (0 is the empty
                                policy; TO defaults to the live revision)
  rollback REVISION             store revision REVISION's document as a new revision
  effective [--cluster ID]      print what every channel answers, with reasons
  schema                        print the policy's JSON Schema

Options:
  --comment TEXT       why the change is made (apply, rollback); stored with the revision
  --allow-pending      accept pins to versions not published yet (validate, apply); the
                       channel keeps its current answer until the version is published
  --base-revision N    apply only if revision N is still live (apply)

Environment: MIRROR_URL (default http://127.0.0.1:8787), ADMIN_TOKEN (required except for
validate --offline and schema)`;

type Problems = { problems?: PolicyProblem[]; warnings?: PolicyProblem[] };

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      yaml: { type: "boolean", default: false },
      revision: { type: "string" },
      offline: { type: "boolean", default: false },
      "allow-pending": { type: "boolean", default: false },
      "base-revision": { type: "string" },
      comment: { type: "string" },
      limit: { type: "string" },
      cluster: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (!command || values.help) {
    console.log(USAGE);
    return;
  }

  switch (command) {
    case "schema":
      console.log(JSON.stringify(policyJsonSchema(), null, 2));
      return;

    case "validate": {
      const file = requireArgument(rest[0], "validate needs a policy file");
      const text = await readPolicyFile(file);
      parseLocally(text, file);
      if (values.offline) {
        console.log(`${file}: valid against the policy schema (not checked against a mirror)`);
        return;
      }
      const client = adminClientFromEnv();
      const query = values["allow-pending"] ? "?allowPending=true" : "";
      const result = (await expectOk(await client.request("POST", `/api/v1/policy/validate${query}`, text, "application/yaml"), "validate")) as Problems & { valid: boolean };
      printProblems(result);
      if (!result.valid) throw new Error(`${file} would be rejected by ${client.baseUrl}`);
      console.log(`${file}: valid for ${client.baseUrl}`);
      return;
    }

    case "apply": {
      const file = requireArgument(rest[0], "apply needs a policy file");
      const text = await readPolicyFile(file);
      parseLocally(text, file);
      const client = adminClientFromEnv();
      const query = new URLSearchParams();
      if (values.comment !== undefined) query.set("comment", values.comment);
      if (values["allow-pending"]) query.set("allowPending", "true");
      if (values["base-revision"] !== undefined) query.set("baseRevision", values["base-revision"]);
      const response = await client.request("PUT", `/api/v1/policy${query.size > 0 ? `?${query}` : ""}`, text, "application/yaml");
      const result = (await expectChange(response, "apply")) as Problems & { changed: boolean; revision: { id: number } | null; changes: PolicyDiffEntry[] };
      printProblems(result);
      if (!result.changed) {
        console.log(`no change: ${file} equals the live policy (revision ${result.revision?.id ?? "none"})`);
        return;
      }
      printDiff(result.changes);
      console.log(`stored revision ${result.revision!.id} on ${client.baseUrl}`);
      return;
    }

    case "get": {
      const client = adminClientFromEnv();
      const path = values.revision === undefined ? "/api/v1/policy" : `/api/v1/policy/revisions/${encodeURIComponent(values.revision)}`;
      const result = (await expectOk(await client.request("GET", path), "get")) as { revision: unknown; policy: unknown };
      console.log(values.yaml ? stringifyYaml(result.policy) : JSON.stringify(result, null, 2));
      return;
    }

    case "history": {
      const client = adminClientFromEnv();
      const query = values.limit === undefined ? "" : `?limit=${encodeURIComponent(values.limit)}`;
      const result = (await expectOk(await client.request("GET", `/api/v1/policy/history${query}`), "history")) as {
        revisions: Array<{ id: number; author: string; createdAt: string; comment: string; rollbackOf: number | null }>;
      };
      for (const revision of result.revisions) {
        const rollback = revision.rollbackOf === null ? "" : ` (rollback to ${revision.rollbackOf})`;
        console.log(`${revision.id}\t${revision.createdAt}\t${revision.author}\t${revision.comment}${rollback}`);
      }
      return;
    }

    case "diff": {
      const from = requireArgument(rest[0], "diff needs a policy file or a revision id");
      const client = adminClientFromEnv();
      if (/^\d+$/.test(from)) {
        const to = rest[1];
        if (to !== undefined && !/^\d+$/.test(to)) throw new Error(`"${to}" is not a revision id; give two revision ids or one policy file`);
        const query = `from=${from}${to === undefined ? "" : `&to=${to}`}`;
        const result = (await expectOk(await client.request("GET", `/api/v1/policy/diff?${query}`), "diff")) as { changes: PolicyDiffEntry[] };
        printDiff(result.changes);
        return;
      }
      const local = parseLocally(await readPolicyFile(from), from);
      const live = (await expectOk(await client.request("GET", "/api/v1/policy"), "diff")) as { policy: Record<string, unknown> };
      printDiff(diffPolicies(live.policy, local));
      return;
    }

    case "rollback": {
      const revision = Number(requireArgument(rest[0], "rollback needs a revision id"));
      if (!Number.isInteger(revision) || revision < 1) throw new Error(`"${rest[0]}" is not a revision id; list them with npm run policy -- history`);
      const client = adminClientFromEnv();
      const body = JSON.stringify({ revision, ...(values.comment !== undefined ? { comment: values.comment } : {}) });
      const result = (await expectChange(await client.request("POST", "/api/v1/policy/rollback", body, "application/json"), "rollback")) as Problems & {
        revision: { id: number };
        changes: PolicyDiffEntry[];
      };
      printProblems(result);
      printDiff(result.changes);
      console.log(`stored revision ${result.revision.id}, a copy of revision ${revision}, on ${client.baseUrl}`);
      return;
    }

    case "effective": {
      const client = adminClientFromEnv();
      const query = values.cluster === undefined ? "" : `?cluster=${encodeURIComponent(values.cluster)}`;
      console.log(JSON.stringify(await expectOk(await client.request("GET", `/api/v1/policy/effective${query}`), "effective"), null, 2));
      return;
    }

    default:
      throw new Error(`unknown command "${command}"\n\n${USAGE}`);
  }
}

function requireArgument(value: string | undefined, message: string): string {
  if (value === undefined) throw new Error(`${message}\n\n${USAGE}`);
  return value;
}

async function readPolicyFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

/** Parses a policy file against the schema, raising with every problem listed. */
function parseLocally(text: string, file: string) {
  let document: unknown;
  try {
    document = parseYaml(text, { maxAliasCount: 0 });
  } catch (error) {
    throw new Error(`${file} is not valid JSON or YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) throw new Error(`${file} does not match the policy schema:\n${parsed.problems.map((problem) => `  ${problem.field}: ${problem.message}`).join("\n")}`);
  return parsed.policy;
}

/** Like expectOk, but lists each problem of a rejected policy on its own line. */
async function expectChange(response: Response, what: string): Promise<unknown> {
  if (response.status !== 400) return expectOk(response, what);
  const body = (await response.json()) as { message: string; details?: Problems };
  const problems = body.details?.problems ?? [];
  if (problems.length === 0) throw new Error(`${what} failed with HTTP 400: ${body.message}`);
  throw new Error(`${what} rejected, nothing was stored:\n${problems.map((problem) => `  ${problem.field}: ${problem.message}`).join("\n")}`);
}

function printProblems(result: Problems): void {
  for (const problem of result.problems ?? []) console.error(`problem: ${problem.field}: ${problem.message}`);
  for (const warning of result.warnings ?? []) console.error(`warning: ${warning.field}: ${warning.message}`);
}

function printDiff(changes: PolicyDiffEntry[]): void {
  if (changes.length === 0) {
    console.log("no differences");
    return;
  }
  for (const change of changes) {
    if (change.op === "add") console.log(`+ ${change.path}: ${JSON.stringify(change.value)}`);
    else if (change.op === "remove") console.log(`- ${change.path}: ${JSON.stringify(change.oldValue)}`);
    else console.log(`~ ${change.path}: ${JSON.stringify(change.oldValue)} -> ${JSON.stringify(change.value)}`);
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
