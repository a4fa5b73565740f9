import { assertKnownOptions, ConfigurationError, type AuthInfo, type KnownOptions } from '@portcullis/token-verification';
import { cacheKey, createTokenCache, type TokenCacheOptions, type UpstreamToken } from './token-cache.js';
import { resourceParameter, scopeParameter } from './request-parameters.js';
import { createTokenEndpoint, TOKEN_ENDPOINT_OPTIONS, type TokenEndpointOptions } from './token-endpoint.js';
import { toUpstreamToken } from './token-response.js';

/** RFC 8693 §2.1 grant type. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3 token type of an OAuth access token. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Options of {@link createTokenExchanger}. */
export type TokenExchangerOptions = TokenEndpointOptions & {
  /** Cache of exchanged tokens, or `false` for none (single-flight stays). Default `{ maxEntries: 1000, skewSeconds: 30 }`. */
  readonly cache?: TokenCacheOptions | false;
  /** Clock in ms, for tests. Default `Date.now`. */
  readonly now?: () => number;
};

/** What to exchange the incoming token for. */
export interface ExchangeTarget {
  /** RFC 8693 `audience`: the upstream, as the AS names it. Required: an upstream token is always for one API. */
  readonly audience: URL | string;
  /** RFC 8707 `resource`: the upstream's URL (absolute, no fragment, RFC 8707 §2), when the AS uses resource indicators. Default not sent. */
  readonly resource?: URL | string;
  /** Scopes wanted at the upstream, each an RFC 6749 §3.3 scope-token (a string is space-delimited). Default: none sent (the AS decides). */
  readonly scope?: string | readonly string[];
}

/** Turns a verified incoming token into a token for one upstream. */
export interface TokenExchanger {
  /**
   * Exchanges `auth.token` — the caller's token, already verified by this server — for a token whose
   * audience is the upstream (RFC 8693 §2.1), authenticating with this server's own credentials.
   * Cached until the new token's expiry minus skew, keyed by a SHA-256 of (subject token, audience,
   * resource, scope); concurrent calls for one key share one request. Rejects with {@link UpstreamTokenError}.
   */
  exchange(auth: Pick<AuthInfo, 'token'>, target: ExchangeTarget): Promise<UpstreamToken>;
}

const EXCHANGER_OPTIONS: KnownOptions<TokenExchangerOptions> = { ...TOKEN_ENDPOINT_OPTIONS, cache: true, now: true };
const TARGET_OPTIONS: KnownOptions<ExchangeTarget> = { audience: true, resource: true, scope: true };

/**
 * RFC 8693 token exchange for upstream calls made on behalf of the caller, instead of forwarding
 * the caller's token (MCP: token passthrough is forbidden, S-13, B-01). The AS decides what the
 * new token may do; it normally records the caller in `sub` and this server in `act` (§4.1).
 *
 * What it does not do: verify the incoming token (do that first, e.g. with `createJwtVerifier` or
 * `@portcullis/bearer-auth`), or verify the issued token (the upstream does).
 *
 * @example
 * const exchanger = createTokenExchanger({ issuer: 'https://auth.example.com', client: { method: 'client_secret_basic', clientId: 'mcp-server', clientSecret } });
 * const { accessToken } = await exchanger.exchange(req.auth, { audience: 'https://api.example.com' });
 */
export function createTokenExchanger(options: TokenExchangerOptions): TokenExchanger {
  assertKnownOptions(options, EXCHANGER_OPTIONS, 'createTokenExchanger()');
  const endpoint = createTokenEndpoint(options, 'createTokenExchanger()');
  const now = options.now ?? Date.now;
  const cache = createTokenCache(options.cache ?? {}, now, 'createTokenExchanger()');
  return {
    async exchange(auth, target) {
      // Mistakes in the call reject before any request.
      const token = auth?.token;
      if (typeof token !== 'string' || token === '') throw new ConfigurationError('ERR_MISSING_OPTION', 'exchange: auth.token is required (the verified incoming token)');
      assertKnownOptions(target, TARGET_OPTIONS, 'exchange() target');
      if (target?.audience === undefined || String(target.audience) === '') throw new ConfigurationError('ERR_MISSING_OPTION', 'exchange: audience is required (the upstream the token is for)');
      const audience = String(target.audience);
      const resource = resourceParameter(target.resource, 'exchange: resource');
      const scope = scopeParameter(target.scope, 'exchange: scope');
      return cache.get(cacheKey(token, audience, resource ?? '', scope ?? ''), async () => {
        const parameters = new URLSearchParams({
          subject_token: token,
          subject_token_type: ACCESS_TOKEN_TYPE,
          requested_token_type: ACCESS_TOKEN_TYPE,
          audience,
        });
        if (resource !== undefined) parameters.set('resource', resource);
        if (scope !== undefined) parameters.set('scope', scope);
        return toUpstreamToken(await endpoint.request(TOKEN_EXCHANGE_GRANT_TYPE, parameters), now(), endpoint.label, { requireIssuedTokenType: true });
      });
    },
  };
}
