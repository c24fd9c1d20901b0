import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import http from "node:http";
import https from "node:https";

/**
 * Streams a local file to the mirror's admin API with a Content-Length, which the
 * mirror needs to stream it into storage. Returns the status and parsed JSON body.
 */
export function uploadFile(baseUrl: string, token: string, path: string, file: string, size: number): Promise<{ status: number; body: any }> {
  const url = new URL(path, `${baseUrl}/`);
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(url, { method: "PUT", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/octet-stream", "Content-Length": size } }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({ status: response.statusCode ?? 0, body: { message: text } });
        }
      });
    });
    request.on("error", (error) => reject(new Error(`cannot reach the mirror at ${baseUrl}: ${error.message}; start it with npm start or set MIRROR_URL`)));
    createReadStream(file).on("error", reject).pipe(request);
  });
}

/** SHA-256 of a local file, read as a stream. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file)
      .on("error", reject)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex")));
  });
}

/** Orders a version's files so checksum files come first: the others are verified against them. */
export function checksumFilesFirst(names: string[]): string[] {
  return [...names].sort((a, b) => Number(/^sha256sum-/.test(b)) - Number(/^sha256sum-/.test(a)) || a.localeCompare(b));
}
