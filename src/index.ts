import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { ConfigError, loadConfig } from "./config";
import type { AppEnv, Env } from "./env";
import { HttpError, renderError } from "./errors";
import { privateMode } from "./access/private-mode";
import { adminRoutes } from "./routes/admin";
import { channelRoutes } from "./routes/channels";
import { downloadRoutes } from "./routes/downloads";
import { fleetRoutes } from "./routes/fleet";
import { policyRoutes } from "./routes/policy";
import { installRoutes, versionRoutes } from "./routes/install";
import { tagPageRoutes } from "./routes/tag-page";
import { syncApiRoutes } from "./routes/sync-api";
import { runScheduled } from "./scheduled";

export const app = new Hono<AppEnv>();

app.use("*", async (c, next) => {
  try {
    c.set("config", loadConfig(c.env));
  } catch (error) {
    if (error instanceof ConfigError) throw new HttpError(503, error.message, "Misconfigured");
    throw error;
  }
  await next();
});
app.use("*", privateMode((request, env, executionCtx) => app.fetch(request, env, executionCtx)));

app.route("/v1-release", channelRoutes);
// Before adminRoutes, whose admin check would otherwise also cover the public schema route.
app.route("/api/v1/policy", policyRoutes);
// Node-facing and anonymous, so mounted before the admin routes and their token check.
app.route("/api/v1/versions", versionRoutes);
app.route("/k3s-io/k3s/releases/download", downloadRoutes);
app.route("/k3s", downloadRoutes);
// Before the other /api/v1 routes, whose admin check would cover the node-facing preflight and report.
app.route("/api/v1", fleetRoutes);
// Before adminRoutes, whose 1 MiB body limit would reject file imports; each route checks the admin token.
app.route("/api/v1", syncApiRoutes);
app.route("/api/v1", adminRoutes);
app.route("/", installRoutes);
app.route("/", tagPageRoutes);

app.notFound((c) => c.json({ type: "error", code: "NotFound", status: 404, message: `no route for ${c.req.method} ${new URL(c.req.url).pathname.slice(0, 200)}` }, 404));
app.onError((error, c) => {
  if (error instanceof HTTPException && !(error instanceof HttpError)) return renderError(new HttpError(error.status as 400, error.message || "invalid request"), c);
  return renderError(error, c);
});

export default {
  fetch: app.fetch,
  scheduled: (controller: ScheduledController, env: Env, ctx: ExecutionContext) => {
    ctx.waitUntil(runScheduled(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
