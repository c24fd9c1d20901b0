import { describe, expect, it } from "vitest";
import { compileChannelRegexp } from "../../src/channels/re2";

describe("compileChannelRegexp", () => {
  it.each([".*", "^[^+]+-", "-(alpha|beta|rc)", "v1\\.25\\..*", "(^[^+]+-|v1\\.25\\.5\\+k3s1)", "v1\\.16\\.[0-9]*-(alpha|beta|rc)", "^v1\\.(2[0-9])\\.\\d{1,2}$", "(?:rc|beta)\\d+"])(
    "accepts %s",
    (pattern) => {
      expect(compileChannelRegexp(pattern).ok).toBe(true);
    },
  );

  it.each([
    ["(?=v1)", "lookahead"],
    ["(?!rc)", "negative lookahead"],
    ["(?<=v)1", "lookbehind"],
    ["(a)\\1", "backreference"],
    ["(?i)v1", "inline flag"],
    ["\\Av1", "RE2-only anchor"],
    ["v1\\z", "RE2-only anchor"],
    ["[[:digit:]]", "POSIX class"],
    ["\\pN", "Unicode class"],
    ["\\u0041", "JavaScript-only escape"],
    ["(?P<minor>1)", "named group"],
    ["v1{", "stray brace"],
    ["[]a]", "class starting with ]"],
    ["(v1", "unclosed group"],
    ["v1)", "unmatched parenthesis"],
    ["[a-", "unclosed class"],
    ["v1\\", "trailing backslash"],
  ])("rejects %s (%s)", (pattern) => {
    const result = compileChannelRegexp(pattern);
    expect(result.ok).toBe(false);
  });

  it("names the offset of the problem", () => {
    const result = compileChannelRegexp("v1\\.2(?=5)");
    expect(result.ok ? "" : result.reason).toContain("offset 5");
  });
});
