import { z } from "zod";
import type { Env } from "./env";

/** Architectures K3s publishes, with the suffix of the binary's file name. */
export const ARCH_SUFFIXES = { amd64: "", arm64: "-arm64", arm: "-armhf", s390x: "-s390x" } as const;
export type Arch = keyof typeof ARCH_SUFFIXES;
export const ARCHES = Object.keys(ARCH_SUFFIXES) as Arch[];

/** The architecture whose publication gates every channel answer. */
export const DEFAULT_ARCH: Arch = "amd64";

const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;
const LABEL_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

const csv = (value: string) =>
  value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);

const urlVar = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((value) => /^https?:\/\/[^\s]+$/.test(value) && isAbsoluteUrl(value), {
      message: `${name} must be an absolute http(s) URL`,
    });

function isAbsoluteUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

const intVar = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((value, ctx) => {
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({ code: "custom", message: `${name} must be an integer from ${min} to ${max}, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });

const boolVar = (name: string, fallback: boolean) =>
  z
    .string()
    .default(String(fallback))
    .transform((value, ctx) => {
      const normalised = value.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(normalised)) return true;
      if (["0", "false", "no", "off", ""].includes(normalised)) return false;
      ctx.addIssue({ code: "custom", message: `${name} must be true or false, got "${value}"` });
      return z.NEVER;
    });

/** Parses `label:token,label:token` (ADMIN_TOKENS, NODE_TOKENS) into labelled tokens. */
const tokenListVar = (name: string) =>
  z
    .string()
    .default("")
    .transform((value, ctx) => {
      const tokens: LabelledToken[] = [];
      for (const entry of csv(value)) {
        const separator = entry.indexOf(":");
        const label = separator > 0 ? entry.slice(0, separator) : `token${tokens.length + 1}`;
        const token = separator > 0 ? entry.slice(separator + 1) : entry;
        if (!LABEL_PATTERN.test(label) || !TOKEN_PATTERN.test(token)) {
          ctx.addIssue({
            code: "custom",
            message: `${name} entry for label "${label}" is invalid: write label:token, labels of [A-Za-z0-9._-], tokens of 16 to 256 characters [A-Za-z0-9._~-]`,
          });
          return z.NEVER;
        }
        tokens.push({ label, token });
      }
      return tokens;
    });

export type LabelledToken = { label: string; token: string };

const ConfigSchema = z.object({
  ADMIN_TOKEN: z
    .string()
    .optional()
    .refine((value) => value === undefined || value === "" || TOKEN_PATTERN.test(value), {
      message: "ADMIN_TOKEN must be 16 to 256 characters of [A-Za-z0-9._~-]",
    }),
  ADMIN_TOKENS: tokenListVar("ADMIN_TOKENS"),
  NODE_TOKENS: tokenListVar("NODE_TOKENS"),
  GITHUB_TOKEN: z.string().optional(),
  UPSTREAM_CHANNELS_URL: urlVar("UPSTREAM_CHANNELS_URL", "https://update.k3s.io/v1-release/channels"),
  UPSTREAM_RELEASES_API: urlVar("UPSTREAM_RELEASES_API", "https://api.github.com/repos/k3s-io/k3s/releases"),
  UPSTREAM_INSTALL_SCRIPT_URL: urlVar("UPSTREAM_INSTALL_SCRIPT_URL", "https://get.k3s.io"),
  MIRROR_ARCHES: z
    .string()
    .default("amd64,arm64,arm")
    .transform((value, ctx) => {
      const arches = csv(value);
      const unknown = arches.filter((arch) => !(arch in ARCH_SUFFIXES));
      if (unknown.length > 0 || arches.length === 0) {
        ctx.addIssue({ code: "custom", message: `MIRROR_ARCHES lists unknown architecture(s) "${unknown.join(",")}"; choose from ${ARCHES.join(", ")}` });
        return z.NEVER;
      }
      if (!arches.includes(DEFAULT_ARCH)) {
        ctx.addIssue({ code: "custom", message: `MIRROR_ARCHES must include ${DEFAULT_ARCH}, the architecture that gates channel answers` });
        return z.NEVER;
      }
      return [...new Set(arches)] as Arch[];
    }),
  MIRROR_OLDEST_MINOR: z
    .string()
    .default("v1.30")
    .transform((value, ctx) => {
      const match = /^v?1\.(\d{1,3})$/.exec(value.trim());
      if (!match) {
        ctx.addIssue({ code: "custom", message: `MIRROR_OLDEST_MINOR must look like v1.30, got "${value}"` });
        return z.NEVER;
      }
      return Number(match[1]);
    }),
  MIRROR_PATCHES_PER_MINOR: intVar("MIRROR_PATCHES_PER_MINOR", 2, 0, 50),
  MIRROR_AIRGAP: boolVar("MIRROR_AIRGAP", false),
  DEFAULT_CHANNEL: z
    .string()
    .default("stable")
    .refine((value) => /^[A-Za-z0-9._+-]{1,64}$/.test(value), { message: "DEFAULT_CHANNEL must be a channel name of [A-Za-z0-9._+-]" }),
  SYNC_MAX_DOWNLOADS_PER_STEP: intVar("SYNC_MAX_DOWNLOADS_PER_STEP", 4, 1, 100),
  SYNC_MAX_SUBREQUESTS_PER_STEP: intVar("SYNC_MAX_SUBREQUESTS_PER_STEP", 200, 10, 5000),
  CHANNEL_GATE: z.enum(["published", "known"], { message: 'CHANNEL_GATE must be "published" or "known"' }).default("published"),
  NODE_STALE_AFTER_HOURS: intVar("NODE_STALE_AFTER_HOURS", 168, 1, 8760),
  SKEW_HOP_DWELL_MINUTES: intVar("SKEW_HOP_DWELL_MINUTES", 1440, 0, 43200),
  CHANNEL_CACHE_TTL_MS: intVar("CHANNEL_CACHE_TTL_MS", 5000, 0, 60_000),
});

/** Names of the Worker vars and secrets the mirror reads. */
export const VAR_NAMES = Object.keys(ConfigSchema.shape) as (keyof typeof ConfigSchema.shape)[];

/** The mirror's settings, normalised from Worker vars with defaults in one place. */
export type Config = {
  adminTokens: LabelledToken[];
  nodeTokens: LabelledToken[];
  githubToken: string | undefined;
  upstream: { channelsUrl: string; releasesApi: string; installScriptUrl: string };
  mirror: { arches: Arch[]; oldestMinor: number; patchesPerMinor: number; airgap: boolean };
  defaultChannel: string;
  sync: { maxDownloadsPerStep: number; maxSubrequestsPerStep: number };
  channelGate: "published" | "known";
  nodeStaleAfterMs: number;
  /** How long a cluster's channel offer stands before its next hop when no fresh server inventory shows the rollout done. */
  skewHopDwellMs: number;
  /** How long an isolate reuses the stored inputs of channel answers; 0 reads D1 every time. */
  channelCacheTtlMs: number;
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

const cache = new WeakMap<object, Config>();

/**
 * Normalises the Worker's vars into a Config. Raises ConfigError listing every invalid
 * var with what to change. Results are cached per env object.
 */
export function loadConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;

  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = (env as Record<string, unknown>)[key];
    if (typeof value === "string" && value !== "") raw[key] = value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`invalid mirror configuration: ${parsed.error.issues.map((issue) => issue.message).join("; ")}`);
  }
  const vars = parsed.data;

  const adminTokens = [...vars.ADMIN_TOKENS];
  if (vars.ADMIN_TOKEN) adminTokens.unshift({ label: "admin", token: vars.ADMIN_TOKEN });

  const config: Config = {
    adminTokens,
    nodeTokens: vars.NODE_TOKENS,
    githubToken: vars.GITHUB_TOKEN || undefined,
    upstream: {
      channelsUrl: vars.UPSTREAM_CHANNELS_URL.replace(/\/+$/, ""),
      releasesApi: vars.UPSTREAM_RELEASES_API.replace(/\/+$/, ""),
      installScriptUrl: vars.UPSTREAM_INSTALL_SCRIPT_URL,
    },
    mirror: {
      arches: vars.MIRROR_ARCHES,
      oldestMinor: vars.MIRROR_OLDEST_MINOR,
      patchesPerMinor: vars.MIRROR_PATCHES_PER_MINOR,
      airgap: vars.MIRROR_AIRGAP,
    },
    defaultChannel: vars.DEFAULT_CHANNEL,
    sync: { maxDownloadsPerStep: vars.SYNC_MAX_DOWNLOADS_PER_STEP, maxSubrequestsPerStep: vars.SYNC_MAX_SUBREQUESTS_PER_STEP },
    channelGate: vars.CHANNEL_GATE,
    nodeStaleAfterMs: vars.NODE_STALE_AFTER_HOURS * 3_600_000,
    skewHopDwellMs: vars.SKEW_HOP_DWELL_MINUTES * 60_000,
    channelCacheTtlMs: vars.CHANNEL_CACHE_TTL_MS,
  };
  cache.set(env, config);
  return config;
}
