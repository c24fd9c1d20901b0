import { describe, expect, it } from "vitest";
import { describeProblems, parseChannelConfig } from "../../src/channels/config";
import { DEFAULT_CHANNEL_CONFIG_YAML } from "../../src/channels/default-config";
import k3s2023 from "../fixtures/k3s-channels-2023.yaml?raw";

describe("parseChannelConfig", () => {
  it("parses the k3s 2023 layout", () => {
    const result = parseChannelConfig(k3s2023);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.channels).toHaveLength(17);
    expect(result.config.channels[0]).toEqual({ name: "stable", latest: "v1.25.6+k3s1" });
    expect(result.config.github).toEqual({ owner: "k3s-io", repo: "k3s" });
  });

  it("parses the embedded default", () => {
    const result = parseChannelConfig(DEFAULT_CHANNEL_CONFIG_YAML);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.channels.map((channel) => channel.name).slice(0, 4)).toEqual(["stable", "latest", "testing", "v1.16"]);
  });

  it("accepts a pin in another distribution's spelling", () => {
    expect(parseChannelConfig("channels:\n- name: stable\n  latest: v1.35.7+rke2r1\n").ok).toBe(true);
  });

  it("accepts JSON", () => {
    expect(parseChannelConfig('{"channels":[{"name":"stable","latest":"v1.30.1+k3s1"}]}').ok).toBe(true);
  });

  it("rejects an invalid regexp naming the channel", () => {
    const result = parseChannelConfig("channels:\n- name: v1.30\n  latestRegexp: (?=v1\\.30)\n");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]).toMatchObject({ channel: "v1.30", field: "latestRegexp" });
    expect(describeProblems(result.problems)).toContain('channel "v1.30" field latestRegexp');
  });

  it("rejects a misspelt field", () => {
    const result = parseChannelConfig("channels:\n- name: v1.30\n  latestRegex: v1\\.30\n");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]?.channel).toBe("v1.30");
    expect(result.problems[0]?.message).toContain("latestRegex");
  });

  it.each([
    ["broken YAML", "channels: [\n"],
    ["no channels", "github: {owner: a, repo: b}\n"],
    ["a bad name", "channels:\n- name: 'bad name'\n"],
    ["a duplicate", "channels:\n- name: a\n- name: a\n"],
    ["a scalar document", "42"],
    ["a pin that is not a version", "channels:\n- name: stable\n  latest: a b <c>\n"],
  ])("rejects %s", (_label, text) => {
    expect(parseChannelConfig(text).ok).toBe(false);
  });
});
