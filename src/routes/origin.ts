import type { Context } from "hono";

const HOST_PATTERN = /^(?:[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * Returns the origin clients used to reach the mirror: scheme from X-Forwarded-Proto,
 * host from X-Forwarded-Host or Host. Header values that are not a plain scheme or host
 * are ignored, so nothing from them reaches a link or a script unchecked.
 */
export function requestOrigin(c: Context): string {
  const url = new URL(c.req.url);
  const forwardedProto = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  const forwardedHost = c.req.header("x-forwarded-host")?.split(",")[0]?.trim();
  const host = c.req.header("host")?.trim();

  const scheme = forwardedProto === "http" || forwardedProto === "https" ? forwardedProto : url.protocol.slice(0, -1);
  const authority = [forwardedHost, host].find((value) => value !== undefined && HOST_PATTERN.test(value)) ?? url.host;
  return `${scheme}://${authority}`;
}
