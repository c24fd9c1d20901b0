/**
 * Quotes a value as one POSIX shell word: single quotes around it, each `'` inside
 * written as `'\''`. The result is safe to paste into a script for any input, because
 * nothing between single quotes is expanded.
 *
 * @example shellQuote("it's") // 'it'\''s'
 */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
