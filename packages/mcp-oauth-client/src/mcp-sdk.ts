import { isAuthStrategy, type AuthStrategy } from './auth-strategy.js';
import type { McpOAuthClient, OAuthClientOptions } from './oauth-client.js';
import { oauthStrategy } from './oauth-strategy.js';
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
 * {@link withOAuth} answers them below the transport. With the OAuth flow it returns the client too,
 * for the programmatic calls; with any other {@link AuthStrategy}, only the transport options.
 *
 * @example
 * const { transportOptions } = mcpTransportOAuth({ redirectUri, authorizationHandler: createLoopbackAuthorizationHandler() });
 * await new Client({ name: 'app', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(new URL(serverUrl), transportOptions));
 * @example
 * const { transportOptions } = mcpTransportOAuth(staticToken(process.env.MCP_TOKEN!));
 */
export function mcpTransportOAuth<State>(
  strategy: AuthStrategy<State>,
  options?: WithOAuthOptions & { readonly fetch?: FetchLike },
): { transportOptions: McpTransportOAuthOptions };
export function mcpTransportOAuth(
  clientOrOptions: McpOAuthClient | OAuthClientOptions,
  options?: WithOAuthOptions & { readonly fetch?: FetchLike },
): { client: McpOAuthClient; transportOptions: McpTransportOAuthOptions };
export function mcpTransportOAuth(
  source: AuthStrategy<unknown> | McpOAuthClient | OAuthClientOptions,
  options: WithOAuthOptions & { readonly fetch?: FetchLike } = {},
): { client?: McpOAuthClient; transportOptions: McpTransportOAuthOptions } {
  const fetch = options.fetch ?? globalThis.fetch;
  if (isAuthStrategy(source)) {
    const client = (source as { client?: unknown }).client;
    return {
      ...(client !== undefined && { client: client as McpOAuthClient }),
      transportOptions: { fetch: withOAuth(fetch, source, options) },
    };
  }
  const strategy = oauthStrategy(source as McpOAuthClient | OAuthClientOptions);
  return { client: strategy.client, transportOptions: { fetch: withOAuth(fetch, strategy, options) } };
}
