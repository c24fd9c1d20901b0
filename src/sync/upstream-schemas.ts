import { z } from "zod";

/** One asset of a GitHub release, as the releases API lists it. */
export const GitHubAsset = z.object({
  name: z.string().min(1).max(255),
  size: z.number().int().nonnegative(),
  browser_download_url: z.string().url(),
  // `sha256:<hex>`, present on assets uploaded since mid-2025.
  digest: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/)
    .nullish(),
});
export type GitHubAsset = z.infer<typeof GitHubAsset>;

/** One release object of the GitHub releases API, reduced to the fields the mirror reads. */
export const GitHubRelease = z.object({
  tag_name: z.string().min(1).max(128),
  prerelease: z.boolean(),
  draft: z.boolean().default(false),
  published_at: z.string().datetime({ offset: true }).nullable(),
  assets: z.array(GitHubAsset).default([]),
});
export type GitHubRelease = z.infer<typeof GitHubRelease>;

export const GitHubReleaseList = z.array(GitHubRelease);

/** The upstream channel server's collection, reduced to what the mirror reads. */
export const UpstreamChannelCollection = z.object({
  type: z.literal("collection"),
  resourceType: z.literal("channels"),
  data: z.array(
    z.object({
      name: z.string().regex(/^[A-Za-z0-9._+-]{1,64}$/),
      latest: z.string().max(128).optional(),
      latestRegexp: z.string().optional(),
      excludeRegexp: z.string().optional(),
    }),
  ),
});
export type UpstreamChannelCollection = z.infer<typeof UpstreamChannelCollection>;
