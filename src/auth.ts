import type { MiddlewareHandler } from "hono";
import type { LabelledToken } from "./config";
import type { AppEnv } from "./env";
import { HttpError } from "./errors";

const encoder = new TextEncoder();

/**
 * Compares a presented secret against each configured token in constant time, by
 * hashing both sides to equal-length digests first. Returns the matching label.
 */
export async function matchToken(presented: string, tokens: readonly LabelledToken[]): Promise<string | null> {
  const presentedDigest = await crypto.subtle.digest("SHA-256", encoder.encode(presented));
  let match: string | null = null;
  for (const { label, token } of tokens) {
    const tokenDigest = await crypto.subtle.digest("SHA-256", encoder.encode(token));
    if (crypto.subtle.timingSafeEqual(presentedDigest, tokenDigest) && match === null) match = label;
  }
  return match;
}

/** Requires `Authorization: Bearer <admin token>` and puts the token's label on the context. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = c.get("config");
  if (config.adminTokens.length === 0) {
    throw new HttpError(503, "the admin API is disabled because no admin token is configured; set ADMIN_TOKEN (or ADMIN_TOKENS as label:token,...) and restart", "AdminDisabled");
  }
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const label = match ? await matchToken(match[1]!, config.adminTokens) : null;
  if (!label) {
    c.header("WWW-Authenticate", 'Bearer realm="k3s-channel-mirror"');
    throw new HttpError(401, "missing or invalid admin token; send Authorization: Bearer <token>");
  }
  c.set("adminLabel", label);
  await next();
};
