import { createOAuthClient, type McpOAuthClient, type OAuthClientOptions } from './oauth-client.js';
import type { FetchLike } from './safe-fetch.js';
import { withOAuth, type WithOAuthOptions } from './with-oauth.js';

/** What both MCP TypeScript SDK transports accept: a `fetch` option. */
export interface McpTransportOAuthOptions {
  readonly fetch: FetchLike;
}

/**
 * Options to spread into an MCP SDK client transport — `StreamableHTTPClientTransport` of SDK 1.x
 * (`@modelcontextprotocol/sdk/client/streamableHttp.js`) or of SDK 2.x (`@modelcontextprotocol/client`).
 * The transport's own OAuth (`authProvider`) stays unused: 401 and 403 never reach it, because
 * {@link withOAuth} answers them below the transport. Returns the client too, for the programmatic calls.
 *
 * @example
 * const { transportOptions } = mcpTransportOAuth({ redirectUri, authorizationHandler: createLoopbackAuthorizationHandler() });
 * await new Client({ name: 'app', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(new URL(serverUrl), transportOptions));
 */
export function mcpTransportOAuth(
  clientOrOptions: McpOAuthClient | OAuthClientOptions,
  options: WithOAuthOptions & { readonly fetch?: FetchLike } = {},
): { client: McpOAuthClient; transportOptions: McpTransportOAuthOptions } {
  const client = 'handleChallenge' in clientOrOptions ? clientOrOptions : createOAuthClient(clientOrOptions);
  return { client, transportOptions: { fetch: withOAuth(options.fetch ?? globalThis.fetch, client, options) } };
}
