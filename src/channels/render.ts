/**
 * Wire formats of rancher/channelserver. Key order, the compact encoding and the
 * trailing newline are part of the contract: clients such as Rancher Desktop and
 * shell scripts read these bytes directly.
 */

export type ChannelView = {
  readonly name: string;
  readonly latest: string | null;
  readonly latestRegexp?: string;
  readonly excludeRegexp?: string;
};

/** Renders the `/v1-release/channels` collection. Empty fields are omitted. */
export function renderChannelCollection(origin: string, channels: readonly ChannelView[]): string {
  const collection = {
    type: "collection",
    links: { self: `${origin}/v1-release/channels` },
    actions: {},
    resourceType: "channels",
    data: channels.map((channel) => {
      const item: Record<string, unknown> = {
        id: channel.name,
        type: "channel",
        links: { self: `${origin}/v1-release/channels/${channel.name}` },
        name: channel.name,
      };
      if (channel.latest) item.latest = channel.latest;
      if (channel.latestRegexp) item.latestRegexp = channel.latestRegexp;
      if (channel.excludeRegexp) item.excludeRegexp = channel.excludeRegexp;
      return item;
    }),
  };
  return `${JSON.stringify(collection)}\n`;
}

/** Renders an empty collection, as upstream answers `/v1-release/releases` for k3s. */
export function renderEmptyCollection(origin: string, resourceType: "releases" | "appdefaults"): string {
  return `${JSON.stringify({ type: "collection", links: { self: `${origin}/v1-release/${resourceType}` }, actions: {}, resourceType, data: [] })}\n`;
}

/**
 * Upstream's 404 body, byte for byte: its error writer emits `type` twice, and some
 * clients compare the bytes.
 */
export const CHANNEL_NOT_FOUND_BODY = '{"type":"error","links":{},"code":"NotFound","message":"","status":404,"type":"error"}\n';

/** The body Go's http.Redirect writes for a 302, which some scripts scrape. */
export function renderRedirectBody(location: string): string {
  return `<a href="${escapeHtml(location)}">Found</a>.\n\n`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
