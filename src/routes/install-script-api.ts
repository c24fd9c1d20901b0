import { Hono } from "hono";
import type { AppEnv } from "../env";
import { HttpError } from "../errors";
import { adminLogStatement } from "../storage/admin-log";
import { getCurrentInstallScript } from "../storage/install-scripts";
import { installScriptKey } from "../storage/keys";
import { installScriptProblem, storeInstallScript } from "../sync/install-script";

/**
 * Admin routes for the mirrored upstream installer, under /api/v1/install-script, so that
 * an air-gapped mirror can be seeded with it: `PUT` stores a script (it becomes the one the
 * wrapped install runs), `GET` returns the current one for export. Mounted inside the
 * admin routes, which check the token and bound the body to 1 MiB.
 */
export const installScriptAdminRoutes = new Hono<AppEnv>();

installScriptAdminRoutes.get("/", async (c) => {
  const current = await getCurrentInstallScript(c.env.DB);
  const object = current ? await c.env.FILES.get(installScriptKey(current.sha256)) : null;
  if (!current || !object) throw new HttpError(404, "this mirror has no installer script yet; run a sync or PUT one to /api/v1/install-script");
  return new Response(object.body, {
    headers: { "Content-Type": "text/plain; charset=utf-8", "Content-Length": String(object.size), "X-Install-Script-SHA256": current.sha256 },
  });
});

installScriptAdminRoutes.put("/", async (c) => {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const problem = installScriptProblem(bytes);
  if (problem) throw new HttpError(400, `installer script rejected, nothing was stored: the body ${problem}; send the upstream install.sh as the request body`);

  const now = new Date().toISOString();
  const label = c.get("adminLabel");
  const stored = await storeInstallScript(c.env.DB, c.env.FILES, bytes, `an admin import by ${label}`, now);
  await c.env.DB.batch([adminLogStatement(c.env.DB, label, "install-script.import", { sha256: stored.sha256, size: bytes.byteLength }, now)]);
  return c.json({ sha256: stored.sha256, size: bytes.byteLength, status: stored.status });
});
