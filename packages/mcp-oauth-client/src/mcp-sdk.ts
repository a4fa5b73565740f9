import { isAuthStrategy, type AuthStrategy } from './auth-strategy.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';
import type { McpOAuthClient, OAuthClientOptions } from './oauth-client.js';
import { strategyFor } from './oauth-strategy.js';
import type { FetchLike } from './safe-fetch.js';
import { withOAuth, type WithOAuthOptions } from './with-oauth.js';

/** What both MCP TypeScript SDK transports accept: a `fetch` option. */
export interface McpTransportOAuthOptions {
  readonly fetch: FetchLike;
}

/** The second argument of {@link mcpTransportOAuth}: {@link WithOAuthOptions}, and the `fetch` to wrap (default `globalThis.fetch`). */
type TransportOAuthOptions = WithOAuthOptions & { readonly fetch?: FetchLike };

const TRANSPORT_OAUTH_OPTIONS: KnownOptions<TransportOAuthOptions> = { operationOf: true, fetch: true };

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
  options?: TransportOAuthOptions,
): { transportOptions: McpTransportOAuthOptions };
export function mcpTransportOAuth(
  clientOrOptions: McpOAuthClient | OAuthClientOptions,
  options?: TransportOAuthOptions,
): { client: McpOAuthClient; transportOptions: McpTransportOAuthOptions };
export function mcpTransportOAuth(
  source: AuthStrategy<unknown> | McpOAuthClient | OAuthClientOptions,
  options: TransportOAuthOptions = {},
): { client?: McpOAuthClient; transportOptions: McpTransportOAuthOptions } {
  assertKnownOptions(options, TRANSPORT_OAUTH_OPTIONS, 'mcpTransportOAuth options (its second argument)');
  const fetch = options.fetch ?? globalThis.fetch;
  // Only withOAuth's own options: `fetch` is this function's.
  const extra: WithOAuthOptions = options.operationOf ? { operationOf: options.operationOf } : {};
  if (isAuthStrategy(source)) {
    const client = (source as { client?: unknown }).client;
    return {
      ...(client !== undefined && { client: client as McpOAuthClient }),
      transportOptions: { fetch: withOAuth(fetch, source, extra) },
    };
  }
  const strategy = strategyFor(source as McpOAuthClient | OAuthClientOptions, 'mcpTransportOAuth');
  return { client: strategy.client, transportOptions: { fetch: withOAuth(fetch, strategy, extra) } };
}
