/**
 * Checks that a channel regexp means the same in Go's RE2 (the upstream channel
 * server) and in JavaScript. Rather than translate, it accepts the common subset and
 * rejects every construct whose meaning differs or exists in only one engine:
 * lookaround and backreferences (JavaScript only), `(?i)` flags, `\A`, `\z`, `\Q…\E`,
 * `\pN` and POSIX classes `[[:alpha:]]` (RE2 only), `\u`, `\c`, octal escapes and
 * stray braces (read differently by the two).
 */

export type Re2Check = { ok: true; regexp: RegExp } | { ok: false; reason: string };

const SAFE_ESCAPES = new Set(["d", "D", "w", "W", "s", "S", "b", "B", "t", "n", "r", "f", "v", "x"]);
const MAX_PATTERN_LENGTH = 1024;

/** Validates `pattern` against the shared RE2/JavaScript subset and compiles it. */
export function compileChannelRegexp(pattern: string): Re2Check {
  if (pattern.length > MAX_PATTERN_LENGTH) return { ok: false, reason: `longer than ${MAX_PATTERN_LENGTH} characters` };

  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) return { ok: false, reason: "ends with a lone backslash" };
      if (/[A-Za-z0-9]/.test(next)) {
        if (!SAFE_ESCAPES.has(next)) return { ok: false, reason: `escape \\${next} at offset ${i} differs between RE2 and JavaScript` };
        if (next === "x" && !/^[0-9A-Fa-f]{2}$/.test(pattern.slice(i + 2, i + 4))) {
          return { ok: false, reason: `\\x at offset ${i} must be followed by two hex digits` };
        }
      }
      i++;
      continue;
    }
    if (char === "[") {
      const end = classEnd(pattern, i);
      if (end === i + 1 || (end === i + 2 && pattern[i + 1] === "^")) {
        return { ok: false, reason: `character class at offset ${i} starts with "]", which RE2 reads as a literal and JavaScript as the end; escape it as \\]` };
      }
      if (end < 0) return { ok: false, reason: `character class at offset ${i} is not closed` };
      const body = pattern.slice(i + 1, end);
      if (body.includes("[:") || body.includes("[=") || body.includes("[.")) {
        return { ok: false, reason: `character class at offset ${i} uses POSIX syntax that JavaScript does not support` };
      }
      const escape = /\\([A-Za-z0-9])/g;
      for (let m = escape.exec(body); m; m = escape.exec(body)) {
        if (!SAFE_ESCAPES.has(m[1]!) || m[1] === "b" || m[1] === "B") {
          return { ok: false, reason: `escape \\${m[1]} in the character class at offset ${i} differs between RE2 and JavaScript` };
        }
      }
      i = end;
      continue;
    }
    if (char === "(") {
      if (pattern[i + 1] === "?") {
        if (pattern[i + 2] !== ":") return { ok: false, reason: `group syntax "(?${pattern[i + 2] ?? ""}" at offset ${i} differs between RE2 and JavaScript; use (...) or (?:...)` };
      }
      depth++;
      continue;
    }
    if (char === ")") {
      depth--;
      if (depth < 0) return { ok: false, reason: `unmatched ")" at offset ${i}` };
      continue;
    }
    if (char === "{") {
      const quantifier = /^\{\d{1,4}(,\d{0,4})?\}/.exec(pattern.slice(i));
      if (!quantifier || i === 0) return { ok: false, reason: `"{" at offset ${i} is not a {n}, {n,} or {n,m} quantifier; escape it as \\{` };
      i += quantifier[0].length - 1;
      continue;
    }
    if (char === "}") return { ok: false, reason: `unmatched "}" at offset ${i}; escape it as \\}` };
  }
  if (depth !== 0) return { ok: false, reason: 'unmatched "("' };

  try {
    return { ok: true, regexp: new RegExp(pattern) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/** Returns the index of the `]` closing the class that opens at `start`, or -1. */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === "^") i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === "\\") {
      i++;
      continue;
    }
    if (pattern[i] === "]") return i;
  }
  return -1;
}
