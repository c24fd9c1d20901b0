import type { Context, MiddlewareHandler } from "hono";
import { matchToken } from "../auth";
import type { AppEnv, Env } from "../env";
import { HttpError } from "../errors";

/**
 * Private mode: when NODE_TOKENS is set, every node-facing URL must start with
 * `/t/<node token>`, because installers and system-upgrade-controller cannot send headers
 * but carry a URL prefix everywhere. The prefix is checked in constant time, stripped,
 * and the rest of the URL is routed as usual with `nodePrefix` set, so links and scripts
 * the mirror renders carry it on. A missing or wrong token gets one fixed 401 response
 * before any route runs, so the response reveals nothing about which channels or files exist.
 * Admin endpoints keep their bearer tokens and need no prefix.
 */

/** Node-facing paths: the installer, channels, release files and the node API. */
const NODE_FACING_PATHS = [
  /^\/$/,
  /^\/install\.sh$/,
  /^\/v1-release(\/|$)/,
  // Tag pages and downloads under /<owner>/<repo>/releases; /api/v1/releases is the admin import.
  /^\/(?!api\/)[^/]+\/[^/]+\/releases(\/|$)/,
  /^\/k3s(\/|$)/,
  /^\/api\/v1\/(preflight|report)$/,
  /^\/api\/v1\/versions(\/|$)/,
];

const PREFIXED_PATH = /^\/t\/([^/]*)(\/.*)?$/;

export const PRIVATE_MODE_MESSAGE = "this mirror is private: node-facing URLs need a node token prefix, as in /t/<token>/v1-release/channels";

/** Tells whether a path (without prefix) is one that nodes fetch. */
export function isNodeFacing(pathname: string): boolean {
  return NODE_FACING_PATHS.some((pattern) => pattern.test(pathname));
}

type HonoExecutionContext = Context<AppEnv>["executionCtx"];
type Dispatch = (request: Request, env: Env, executionCtx: HonoExecutionContext | undefined) => Response | Promise<Response>;

/** Requests that passed the prefix check, with the prefix they came with. */
const admittedPrefixes = new WeakMap<Request, string>();

/**
 * Builds the private-mode middleware. `dispatch` routes the request again once the
 * prefix is stripped (the app's own fetch).
 */
export function privateMode(dispatch: Dispatch): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const admitted = admittedPrefixes.get(c.req.raw);
    if (admitted !== undefined) {
      c.set("nodePrefix", admitted);
      return next();
    }
    c.set("nodePrefix", "");

    const tokens = c.get("config").nodeTokens;
    if (tokens.length === 0) return next();

    const url = new URL(c.req.url);
    const prefixed = PREFIXED_PATH.exec(url.pathname);
    if (!prefixed) {
      if (isNodeFacing(url.pathname)) throw new HttpError(401, PRIVATE_MODE_MESSAGE);
      return next();
    }

    const token = prefixed[1]!;
    if ((await matchToken(token, tokens)) === null) throw new HttpError(401, PRIVATE_MODE_MESSAGE);

    const inner = new URL(url);
    inner.pathname = prefixed[2] ?? "/";
    const request = new Request(inner, c.req.raw);
    admittedPrefixes.set(request, `/t/${token}`);
    return dispatch(request, c.env, executionContextOf(c));
  };
}

function executionContextOf(c: Context<AppEnv>): HonoExecutionContext | undefined {
  try {
    return c.executionCtx;
  } catch {
    // Hono throws when the caller passed no execution context (tests calling app.fetch).
    return undefined;
  }
}
