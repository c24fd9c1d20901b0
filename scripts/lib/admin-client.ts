/**
 * A small client for the mirror's admin API, shared by the CLIs under scripts/.
 * Reads MIRROR_URL (default http://127.0.0.1:8787) and ADMIN_TOKEN from the environment.
 */
export type AdminClient = {
  baseUrl: string;
  request: (method: string, path: string, body?: BodyInit, contentType?: string) => Promise<Response>;
};

export function adminClientFromEnv(options: { url?: string; token?: string } = {}): AdminClient {
  const baseUrl = (options.url ?? process.env.MIRROR_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
  const token = options.token ?? process.env.ADMIN_TOKEN;
  if (!token) {
    throw new Error("ADMIN_TOKEN is not set; export the mirror's admin token (the one it was started with) and retry");
  }
  return {
    baseUrl,
    request: async (method, path, body, contentType) => {
      const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
      if (contentType) headers["Content-Type"] = contentType;
      try {
        return await fetch(`${baseUrl}${path}`, { method, headers, body, duplex: "half" } as RequestInit);
      } catch (error) {
        throw new Error(`cannot reach the mirror at ${baseUrl}: ${(error as Error).cause ?? error}; start it with npm start or set MIRROR_URL`);
      }
    },
  };
}

/** Raises an error carrying the mirror's message when a response is not 2xx. */
export async function expectOk(response: Response, what: string): Promise<unknown> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Plain-text body; keep it as is.
  }
  if (!response.ok) {
    const message = typeof body === "object" && body && "message" in body ? (body as { message: string }).message : text;
    throw new Error(`${what} failed with HTTP ${response.status}: ${message}`);
  }
  return body;
}
