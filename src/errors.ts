import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * The one error type of the mirror. Client mistakes carry a 4xx status and a message
 * naming the value and the fix; upstream faults carry 502 or 503. Anything thrown that
 * is not an HttpError becomes a logged 500 with no internals in the body.
 */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly code: string = defaultCode(status),
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

function defaultCode(status: number): string {
  switch (status) {
    case 400:
      return "InvalidInput";
    case 401:
      return "Unauthorized";
    case 404:
      return "NotFound";
    case 409:
      return "Conflict";
    case 413:
      return "PayloadTooLarge";
    case 502:
      return "UpstreamError";
    case 503:
      return "Unavailable";
    default:
      return status >= 500 ? "ServerError" : "ClientError";
  }
}

/** Renders any thrown value as JSON; used as the app's single error handler. */
export function renderError(error: unknown, c: Context): Response {
  if (error instanceof HttpError) {
    if (error.status >= 500) {
      console.error(JSON.stringify({ event: "request_failed", path: c.req.path, status: error.status, message: error.message }));
    }
    const body: Record<string, unknown> = { type: "error", code: error.code, status: error.status, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    return c.json(body, error.status);
  }
  console.error(JSON.stringify({ event: "unhandled_error", path: c.req.path, error: String(error), stack: (error as Error)?.stack }));
  return c.json({ type: "error", code: "ServerError", status: 500, message: "internal error; see the mirror's logs" }, 500);
}
