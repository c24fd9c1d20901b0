import { describe, expect, it } from "vitest";
import { looksLikeHtml, parseChecksumFile } from "../../src/sync/checksums";

const HASH_A = "a".repeat(64);
const HASH_B = "0123456789abcdef".repeat(4);

describe("parseChecksumFile", () => {
  it("reads sha256sum lines", () => {
    const parsed = parseChecksumFile(`${HASH_A}  k3s\n${HASH_B}  k3s-airgap-images-amd64.tar.zst\n`);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect([...parsed.entries]).toEqual([
      ["k3s", HASH_A],
      ["k3s-airgap-images-amd64.tar.zst", HASH_B],
    ]);
  });

  it("accepts binary-mode stars, CRLF and uppercase hashes", () => {
    const parsed = parseChecksumFile(`${HASH_B.toUpperCase()} *k3s\r\n`);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.entries.get("k3s")).toBe(HASH_B);
  });

  it("rejects an HTML page", () => {
    const parsed = parseChecksumFile("<!DOCTYPE html>\n<html><body>Unicorn</body></html>\n");
    expect(parsed).toMatchObject({ ok: false, reason: "html" });
  });

  it("rejects an empty file", () => {
    expect(parseChecksumFile(" \n\n")).toMatchObject({ ok: false, reason: "empty" });
  });

  it("rejects a truncated line", () => {
    const parsed = parseChecksumFile(`${HASH_A}  k3s\n${HASH_B.slice(0, 40)}`);
    expect(parsed).toMatchObject({ ok: false, reason: "malformed" });
    if (parsed.ok) return;
    expect(parsed.message).toContain("line 2");
  });

  it("rejects a name listed with two hashes", () => {
    expect(parseChecksumFile(`${HASH_A}  k3s\n${HASH_B}  k3s\n`)).toMatchObject({ ok: false, reason: "conflict" });
  });

  it("rejects path separators in names", () => {
    expect(parseChecksumFile(`${HASH_A}  ../k3s\n`)).toMatchObject({ ok: false, reason: "malformed" });
  });
});

describe("looksLikeHtml", () => {
  it("detects HTML documents", () => {
    const encode = (text: string) => new TextEncoder().encode(text);
    expect(looksLikeHtml(encode("<!DOCTYPE html><html>"))).toBe(true);
    expect(looksLikeHtml(encode("\n  <html lang=en>"))).toBe(true);
    expect(looksLikeHtml(encode("#!/bin/sh\n<html>"))).toBe(false);
    expect(looksLikeHtml(new Uint8Array([0x7f, 0x45, 0x4c, 0x46]))).toBe(false);
  });
});
