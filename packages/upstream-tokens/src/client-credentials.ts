import { assertKnownOptions, type KnownOptions } from '@portcullis/token-verification';
import { createTokenCache, type TokenCacheOptions, type UpstreamToken } from './token-cache.js';
import { resourceParameter, scopeParameter } from './request-parameters.js';
import { createTokenEndpoint, TOKEN_ENDPOINT_OPTIONS, type TokenEndpointOptions } from './token-endpoint.js';
import { toUpstreamToken } from './token-response.js';

/** Options of {@link createClientCredentialsSource}. */
export type ClientCredentialsSourceOptions = TokenEndpointOptions & {
  /** RFC 8707 `resource`: the upstream's URL (absolute, no fragment, RFC 8707 §2). Default not sent. */
  readonly resource?: URL | string;
  /** `audience`, for AS that take one instead of `resource` (a common extension). Default not sent. */
  readonly audience?: URL | string;
  /** Scopes wanted at the upstream, each an RFC 6749 §3.3 scope-token (a string is space-delimited). Default: none sent. */
  readonly scope?: string | readonly string[];
  /** Cache, or `false` for none (single-flight stays). Default `{ skewSeconds: 30 }`. */
  readonly cache?: TokenCacheOptions | false;
  /** Clock in ms, for tests. Default `Date.now`. */
  readonly now?: () => number;
};

/** A token with this server's own identity. */
export interface ClientCredentialsSource {
  /** A cached token, or a new one (one request for concurrent callers). Rejects with {@link UpstreamTokenError}. */
  getToken(): Promise<UpstreamToken>;
}

const SOURCE_OPTIONS: KnownOptions<ClientCredentialsSourceOptions> = { ...TOKEN_ENDPOINT_OPTIONS, resource: true, audience: true, scope: true, cache: true, now: true };

/**
 * The client-credentials grant (OAuth 2.1 §4.2) for upstream calls made with the MCP server's own
 * identity — not on behalf of the caller. Use it when the upstream does not need to know who the
 * user is; otherwise use {@link createTokenExchanger}. Never forward the caller's token (S-13, B-01).
 *
 * @example
 * const source = createClientCredentialsSource({ issuer, client: { method: 'client_secret_post', clientId, clientSecret }, resource: 'https://api.example.com' });
 * const api = upstreamFetch(source.getToken);
 */
export function createClientCredentialsSource(options: ClientCredentialsSourceOptions): ClientCredentialsSource {
  assertKnownOptions(options, SOURCE_OPTIONS, 'createClientCredentialsSource()');
  const endpoint = createTokenEndpoint(options, 'createClientCredentialsSource()');
  const now = options.now ?? Date.now;
  const cache = createTokenCache(options.cache ?? {}, now, 'createClientCredentialsSource()');
  const parameters = new URLSearchParams();
  const resource = resourceParameter(options.resource, 'createClientCredentialsSource: resource');
  const scope = scopeParameter(options.scope, 'createClientCredentialsSource: scope');
  if (resource !== undefined) parameters.set('resource', resource);
  if (options.audience !== undefined) parameters.set('audience', String(options.audience));
  if (scope !== undefined) parameters.set('scope', scope);
  return {
    getToken: () => cache.get('client_credentials', async () => toUpstreamToken(await endpoint.request('client_credentials', new URLSearchParams(parameters)), now(), endpoint.label)),
  };
}
