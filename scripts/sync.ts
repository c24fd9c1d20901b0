/**
 * Drives a running mirror's sync until it is done: `npm run sync [-- --retry-now]`.
 * Each POST /api/v1/sync runs one bounded step; this prints one line per step and the
 * failures at the end. Reads MIRROR_URL (default http://127.0.0.1:8787) and ADMIN_TOKEN.
 *
 * Exit status: 0 when done without failures, 1 when files or upstream calls failed,
 * 2 when the mirror cannot be reached or rejects the request.
 */
import { adminClientFromEnv, expectOk } from "./lib/admin-client";
import { parseArgsOrExit } from "./lib/cli-args";

const LOCKED_RETRY_DELAY_MS = 5_000;

const { values } = parseArgsOrExit(
  {
    options: {
      "retry-now": { type: "boolean", default: false },
      "max-steps": { type: "string", default: "1000" },
      help: { type: "boolean", default: false },
    },
  },
  "npm run sync",
);

if (values.help) {
  console.log(`Usage: npm run sync -- [--retry-now] [--max-steps N]

Runs sync steps on a running mirror until one reports done.
  --retry-now     fetch files that failed now, instead of waiting for their retry time
  --max-steps N   stop after N steps (default 1000)
Environment: MIRROR_URL (default http://127.0.0.1:8787), ADMIN_TOKEN (required).`);
  process.exit(0);
}

type Failure = { stage: string; reason: string; version?: string; file?: string; url?: string; expectedSha256?: string | null; actualSha256?: string | null; retryAt?: string };
type Summary = {
  runId: number;
  upstream: Record<string, string>;
  downloaded: number;
  verified: { version: string; file: string }[];
  failed: Failure[];
  published: { version: string; arch: string }[];
  remaining: number;
  nextRetryAt: string | null;
  done: boolean;
};

const maxSteps = Number(values["max-steps"]);
if (!Number.isInteger(maxSteps) || maxSteps < 1) {
  console.error(`invalid --max-steps "${values["max-steps"]}": use a positive integer`);
  process.exit(2);
}

try {
  const client = adminClientFromEnv();
  const failures = new Map<string, Failure>();
  let done = false;

  for (let step = 1; step <= maxSteps && !done; step += 1) {
    const response = await client.request("POST", "/api/v1/sync", JSON.stringify({ retryNow: values["retry-now"] }), "application/json");
    if (response.status === 409) {
      const body = (await response.json()) as { message: string };
      console.log(`step ${step}: ${body.message}; waiting ${LOCKED_RETRY_DELAY_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, LOCKED_RETRY_DELAY_MS));
      continue;
    }
    const summary = (await expectOk(response, "POST /api/v1/sync")) as Summary;
    done = summary.done;

    const upstream = Object.entries(summary.upstream)
      .map(([stage, result]) => `${stage} ${result}`)
      .join(", ");
    console.log(
      `step ${step} (run ${summary.runId}): ${upstream}; downloaded ${summary.downloaded}, verified ${summary.verified.length}, failed ${summary.failed.length}, ` +
        `published ${summary.published.map((entry) => `${entry.version}/${entry.arch}`).join(" ") || "none"}, remaining ${summary.remaining}`,
    );
    for (const failure of summary.failed) failures.set(`${failure.stage}:${failure.version ?? ""}/${failure.file ?? failure.url ?? ""}`, failure);
    for (const file of summary.verified) failures.delete(`download:${file.version}/${file.file}`);
    if (done && summary.nextRetryAt) console.log(`files that failed are retried from ${summary.nextRetryAt} (or now with --retry-now)`);
  }

  if (!done) console.log(`stopped after ${maxSteps} steps before the sync was done`);
  if (failures.size > 0) {
    console.log(`\n${failures.size} failure(s):`);
    for (const failure of failures.values()) {
      const subject = failure.version ? `${failure.version}/${failure.file}` : `${failure.stage} ${failure.url ?? ""}`;
      const hashes = failure.expectedSha256 || failure.actualSha256 ? ` (expected ${failure.expectedSha256 ?? "?"}, actual ${failure.actualSha256 ?? "?"})` : "";
      console.log(`  ${subject}: ${failure.reason}${hashes}`);
    }
  }
  process.exit(failures.size > 0 || !done ? 1 : 0);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
