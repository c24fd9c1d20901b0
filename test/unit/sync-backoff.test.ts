import { describe, expect, it } from "vitest";
import { nextAttemptAt } from "../../src/sync/backoff";
import { nextPageUrl } from "../../src/sync/upstream";

describe("nextAttemptAt", () => {
  const now = "2025-01-01T00:00:00.000Z";

  it("doubles the delay from one minute", () => {
    expect(nextAttemptAt(1, now)).toBe("2025-01-01T00:01:00.000Z");
    expect(nextAttemptAt(2, now)).toBe("2025-01-01T00:02:00.000Z");
    expect(nextAttemptAt(4, now)).toBe("2025-01-01T00:08:00.000Z");
  });

  it("caps the delay at six hours", () => {
    expect(nextAttemptAt(12, now)).toBe("2025-01-01T06:00:00.000Z");
    expect(nextAttemptAt(500, now)).toBe("2025-01-01T06:00:00.000Z");
  });
});

describe("nextPageUrl", () => {
  const current = "http://127.0.0.1:1/repos/k3s-io/k3s/releases?per_page=100";

  it("follows rel=next of a GitHub Link header", () => {
    const link = '<http://127.0.0.1:1/repos/k3s-io/k3s/releases?per_page=100&page=2>; rel="next", <http://127.0.0.1:1/repos/k3s-io/k3s/releases?per_page=100&page=7>; rel="last"';
    expect(nextPageUrl(link, current)).toBe("http://127.0.0.1:1/repos/k3s-io/k3s/releases?per_page=100&page=2");
  });

  it("stops without rel=next", () => {
    expect(nextPageUrl('<http://127.0.0.1:1/x?page=1>; rel="first"', current)).toBeNull();
    expect(nextPageUrl(null, current)).toBeNull();
  });

  it("ignores a next page on another origin", () => {
    expect(nextPageUrl('<http://127.0.0.2:1/x?page=2>; rel="next"', current)).toBeNull();
  });
});
