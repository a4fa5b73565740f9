/**
 * RFC 7662 token introspection, on `oauth4webapi` (request building, client authentication and
 * response parsing); the caching, single-flight and the resource-server checks are ours.
 */
import {
  allowInsecureRequests,
  ClientSecretBasic,
  ClientSecretPost,
  customFetch,
  introspectionRequest,
  PrivateKeyJwt,
  processIntrospectionResponse,
  type AuthorizationServer,
  type ClientAuth,
} from 'oauth4webapi';
import type { CryptoKey } from 'jose';
import { answerFromMemory, verifierTrust, type AuthInfo, type TokenVerifier, type VerifierTrust, type VerifyContext } from './auth-info.js';
import { discoverMetadata, metadataEndpoint } from './authorization-server-metadata.js';
import { boundedFetch, unavailableStatus } from './bounded-fetch.js';
import { assertNotSenderConstrained, assertPresent, freezeAuthInfo, matchAudience, verifiedInfo, withTokenFromOwnResult } from './claims.js';
import { clockFrom, endpointUrl, fetchOption, identifier, identifiers, positiveNumber, type CurrentDate } from './configuration.js';
import { ConfigurationError, InvalidTokenError, VerifierUnavailableError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';
import { ExpiringLru, tokenHash } from './lru-cache.js';
import { scopeReader, type ScopeClaims } from './scopes.js';
import { abortable, SingleFlight } from './single-flight.js';

/**
 * How the resource server authenticates to the introspection endpoint (RFC 7662 §2.1, OAuth 2.1
 * §2.4): a client secret in the `Authorization` header or the body, or a signed JWT assertion
 * (RFC 7523 §2.2, `private_key_jwt`; the assertion's `aud` is the issuer).
 */
export type IntrospectionClientAuthentication =
  | { readonly method: 'client_secret_basic'; readonly clientId: string; readonly clientSecret: string }
  | { readonly method: 'client_secret_post'; readonly clientId: string; readonly clientSecret: string }
  | { readonly method: 'private_key_jwt'; readonly clientId: string; readonly privateKey: CryptoKey; readonly kid?: string };

/** The cache of introspection results. */
export interface IntrospectionCacheOptions {
  /** Most results kept (S3-FIFO eviction: tokens in repeated use outlast one-off ones). Default 10000. */
  readonly maxEntries?: number;
  /**
   * Longest a result is reused, in seconds, even if the token lives longer: a token revoked at the
   * AS keeps working here for at most this long. Default 60.
   */
  readonly maxTtl?: number;
}

/** Options for {@link createIntrospectionVerifier}. */
export interface IntrospectionVerifierOptions {
  /**
   * The introspection endpoint. Default: `introspection_endpoint` from the `issuer`'s RFC 8414 /
   * OIDC metadata (discovered at the first verification). One of `endpoint` and `issuer` is needed.
   */
  readonly endpoint?: string | URL;
  /**
   * The issuer identifier. When given, the response's `iss` must be identical; also used for
   * discovery and as the `aud` of `private_key_jwt` assertions (then it is required).
   */
  readonly issuer?: string | URL;
  /** Client authentication at the introspection endpoint. Required. */
  readonly client: IntrospectionClientAuthentication;
  /**
   * This server's resource indicator(s) (RFC 8707): the response's `aud` (string or array) must
   * contain one (S-11). Required. The one that matched becomes `AuthInfo.resource`.
   */
  readonly audience: string | URL | readonly (string | URL)[];
  /** Result cache, keyed by a SHA-256 of the token; `false` disables it. Default `{ maxEntries: 10000, maxTtl: 60 }`. */
  readonly cache?: IntrospectionCacheOptions | false;
  /** Where scopes are read from in the response. Default `['scope', 'scp']`. */
  readonly scopeClaims?: ScopeClaims;
  /** Seconds of leeway for `exp`/`nbf` in the response. Default 5. */
  readonly clockTolerance?: number;
  /**
   * Accept tokens bound to a key (`cnf` in the response, RFC 9449 / RFC 8705). Default `false`:
   * presented as plain Bearer tokens they are refused; set it only where the proof is checked.
   */
  readonly acceptSenderConstrained?: boolean;
  /** `fetch` for metadata and introspection requests. Default global `fetch`. */
  readonly fetch?: typeof fetch;
  /** Milliseconds before a request is abandoned (→ 503). Default 5000. */
  readonly timeout?: number;
  /** Largest response accepted, in bytes. Default 65536. */
  readonly maxResponseBytes?: number;
  /** Allow `http:` endpoints on non-loopback hosts. Default `false`. */
  readonly allowInsecureHttp?: boolean;
  /** The current time (tests). Default: the wall clock. */
  readonly currentDate?: CurrentDate;
}

type CachedInfo = Omit<AuthInfo, 'token'>;

const INTROSPECTION_OPTIONS: KnownOptions<IntrospectionVerifierOptions> = {
  endpoint: true,
  issuer: true,
  client: true,
  audience: true,
  cache: true,
  scopeClaims: true,
  clockTolerance: true,
  acceptSenderConstrained: true,
  fetch: true,
  timeout: true,
  maxResponseBytes: true,
  allowInsecureHttp: true,
  currentDate: true,
};
const CLIENT_OPTIONS: KnownOptions<IntrospectionClientAuthentication> = { method: true, clientId: true, clientSecret: true, privateKey: true, kid: true };
const CACHE_OPTIONS: KnownOptions<IntrospectionCacheOptions> = { maxEntries: true, maxTtl: true };

/**
 * Creates a verifier that asks the authorization server about each token (RFC 7662) — for opaque
 * tokens, or when revocation must take effect quickly.
 *
 * Checks: `active` is `true` (else 401); `token_type`, when present, is `Bearer` (or `DPoP` with `cnf`, under `acceptSenderConstrained`); `exp`/`nbf` with
 * `clockTolerance`; `aud` contains a configured audience (S-11); `iss` equals `issuer` when one is
 * configured. Results are cached until the earlier of `exp` and `cache.maxTtl`, keyed by a hash of
 * the token; concurrent verifications of one token share one request (single-flight).
 *
 * Failures: `InvalidTokenError` (401) for inactive or unsuitable tokens; `VerifierUnavailableError`
 * (503) when the endpoint is unreachable, slow, answers non-200 or with something that is not an
 * introspection response — an outage of the AS never logs users out.
 *
 * Does not check: scopes (use {@link assertScopes}).
 *
 * @example
 * const verify = createIntrospectionVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://mcp.example.com/mcp',
 *   client: { method: 'client_secret_basic', clientId: 'mcp-server', clientSecret: secret },
 * });
 */
export function createIntrospectionVerifier(options: IntrospectionVerifierOptions): TokenVerifier {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'createIntrospectionVerifier needs an options object');
  }
  assertKnownOptions(options, INTROSPECTION_OPTIONS, 'createIntrospectionVerifier()');
  assertKnownOptions(options.client, CLIENT_OPTIONS, 'createIntrospectionVerifier() client');
  assertKnownOptions(options.cache, CACHE_OPTIONS, 'createIntrospectionVerifier() cache');
  const allowInsecureHttp = options.allowInsecureHttp === true;
  const issuer = options.issuer === undefined ? undefined : identifier(options.issuer, 'issuer');
  if (issuer === undefined && options.endpoint === undefined) {
    throw new ConfigurationError('ERR_MISSING_OPTION', 'Give "endpoint" (the introspection endpoint) or "issuer" (to discover it)');
  }
  const configuredEndpoint = options.endpoint === undefined ? undefined : endpointUrl(options.endpoint, 'endpoint', allowInsecureHttp);
  if (issuer !== undefined) endpointUrl(issuer, 'issuer', allowInsecureHttp);
  const audiences = identifiers(options.audience, 'audience');
  const { client, clientAuth } = clientAuthentication(options.client, issuer);
  const clockTolerance = positiveNumber(options.clockTolerance, 'clockTolerance', 5, { allowZero: true });
  const timeout = positiveNumber(options.timeout, 'timeout', 5000, { integer: true });
  const maxResponseBytes = positiveNumber(options.maxResponseBytes, 'maxResponseBytes', 64 * 1024, { integer: true });
  const now = clockFrom(options.currentDate);
  const readScopes = scopeReader(options.scopeClaims);
  const acceptSenderConstrained = options.acceptSenderConstrained === true;
  const cacheOptions = options.cache === undefined ? {} : options.cache;
  if (cacheOptions !== false && (typeof cacheOptions !== 'object' || cacheOptions === null)) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', '"cache" must be { maxEntries?, maxTtl? } or false');
  }
  const cache =
    cacheOptions === false ? undefined : new ExpiringLru<CachedInfo>(positiveNumber(cacheOptions.maxEntries, 'cache.maxEntries', 10_000, { integer: true }));
  const maxTtl = cacheOptions === false ? 0 : positiveNumber(cacheOptions.maxTtl, 'cache.maxTtl', 60);
  const fetchImpl = fetchOption(options.fetch);
  const fetcher = boundedFetch({ fetch: fetchImpl, timeout, maxResponseBytes, label: 'introspection endpoint' });
  const metadataFetcher = boundedFetch({ fetch: fetchImpl, timeout, maxResponseBytes, label: 'authorization server metadata' });

  let endpoint: Promise<URL> | undefined = configuredEndpoint && Promise.resolve(configuredEndpoint);
  const resolveEndpoint = () =>
    (endpoint ??= (async () => {
      const metadata = await discoverMetadata(issuer!, metadataFetcher);
      try {
        return endpointUrl(metadataEndpoint(metadata, 'introspection_endpoint', issuer!), 'introspection_endpoint', allowInsecureHttp);
      } catch (cause) {
        if (cause instanceof VerifierUnavailableError) throw cause;
        throw new VerifierUnavailableError(`The metadata of ${issuer} names an unacceptable introspection_endpoint`, { cause });
      }
    })().catch((error: unknown) => {
      endpoint = undefined; // retried by the next verification
      throw error;
    }));

  const introspect = async (token: string, key: string): Promise<CachedInfo> => {
    const url = await resolveEndpoint();
    const as: AuthorizationServer = { issuer: issuer ?? url.origin, introspection_endpoint: url.href };
    const response = await introspectionRequest(as, client, clientAuth, token, {
      additionalParameters: { token_type_hint: 'access_token' },
      [customFetch]: fetcher,
      ...(url.protocol === 'http:' ? { [allowInsecureRequests]: true } : {}),
    });
    if (response.status !== 200) throw await rejectedIntrospection(response);
    let claims: Record<string, unknown>;
    try {
      claims = { ...(await processIntrospectionResponse(as, client, response)) };
    } catch (cause) {
      throw new VerifierUnavailableError('The introspection endpoint answered with something that is not an introspection response', { cause });
    }
    const info = checkResponse(claims, { audiences, issuer, now: now(), clockTolerance, readScopes, acceptSenderConstrained });
    cache?.setUntil(key, info, info.expiresAt, now(), maxTtl);
    return info;
  };

  const flight = new SingleFlight<CachedInfo>();
  /** The cached answer for `token`, after the check every verification starts with. */
  const fromCache = (token: string, key: string): AuthInfo | undefined => {
    const cached = cache?.get(key, now());
    return cached === undefined ? undefined : withTokenFromOwnResult(cached, token);
  };
  const verifier = async (token: string, context?: VerifyContext): Promise<AuthInfo> => {
    assertPresent(token);
    const key = tokenHash(token);
    const cached = fromCache(token, key);
    if (cached) return cached;
    const info = await abortable(
      flight.run(key, () => introspect(token, key)),
      context?.signal,
    );
    return withTokenFromOwnResult(info, token);
  };
  // A token introspected before and still cached is answered without a promise (see TokenVerifier).
  return Object.assign(verifier, {
    [answerFromMemory]: (token: string): AuthInfo | undefined => {
      assertPresent(token);
      return fromCache(token, tokenHash(token));
    },
    [verifierTrust]: { issuer, audiences } satisfies VerifierTrust,
  });
}

/**
 * A non-200 answer: 503 (a 401 here means *our* credentials are wrong, not the user's token), with
 * the AS's OAuth error code in the message so operators can fix it — except a 400
 * `unsupported_token_type`, which is about the token itself: RFC 7662 §2.2 wants `active: false`
 * for a token the AS cannot use, and some (oidc-provider, for a JWT it issued for another
 * resource) answer this error instead. That token is invalid here: 401, not "try later".
 */
async function rejectedIntrospection(response: Response): Promise<VerifierUnavailableError | InvalidTokenError> {
  const error = unavailableStatus(response, 'introspection endpoint');
  let code: string | undefined;
  let detail = '';
  try {
    const body = (await response.json()) as { error?: unknown; error_description?: unknown };
    if (typeof body.error === 'string') {
      code = body.error;
      detail = ` (${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''})`;
    }
  } catch {
    detail = ''; // not an OAuth error body; the status says enough
  }
  if (response.status === 400 && code === 'unsupported_token_type') {
    return new InvalidTokenError('The authorization server cannot introspect this token (unsupported_token_type)');
  }
  return detail ? new VerifierUnavailableError(error.message + detail, { retryAfter: error.retryAfter }) : error;
}

function clientAuthentication(
  option: IntrospectionClientAuthentication,
  issuer: string | undefined,
): { client: { client_id: string }; clientAuth: ClientAuth } {
  if (typeof option !== 'object' || option === null) {
    throw new ConfigurationError('ERR_MISSING_OPTION', '"client" is required: { method, clientId, ... } for the introspection endpoint');
  }
  if (typeof option.clientId !== 'string' || option.clientId.length === 0) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', '"client.clientId" must be a non-empty string');
  }
  const client = { client_id: option.clientId };
  switch (option.method) {
    case 'client_secret_basic':
    case 'client_secret_post':
      if (typeof option.clientSecret !== 'string' || option.clientSecret.length === 0) {
        throw new ConfigurationError('ERR_INVALID_OPTIONS', '"client.clientSecret" must be a non-empty string');
      }
      return { client, clientAuth: (option.method === 'client_secret_basic' ? ClientSecretBasic : ClientSecretPost)(option.clientSecret) };
    case 'private_key_jwt':
      if (issuer === undefined) {
        throw new ConfigurationError('ERR_MISSING_OPTION', '"issuer" is required with private_key_jwt: it is the audience of the client assertion');
      }
      try {
        return { client, clientAuth: PrivateKeyJwt(option.kid === undefined ? option.privateKey : { key: option.privateKey, kid: option.kid }) };
      } catch (cause) {
        throw new ConfigurationError('ERR_INVALID_OPTIONS', `"client.privateKey" must be a private signing CryptoKey: ${(cause as Error).message}`);
      }
    default:
      throw new ConfigurationError(
        'ERR_INVALID_OPTIONS',
        `"client.method" must be "client_secret_basic", "client_secret_post" or "private_key_jwt", got ${JSON.stringify((option as { method?: unknown }).method)}`,
      );
  }
}

/** The pure half: judges a parsed introspection response (RFC 7662 §2.2). */
export function checkResponse(
  claims: Record<string, unknown>,
  context: {
    readonly audiences: readonly string[];
    readonly issuer: string | undefined;
    readonly now: number;
    readonly clockTolerance: number;
    readonly readScopes: (claims: Readonly<Record<string, unknown>>) => string[];
    readonly acceptSenderConstrained?: boolean;
  },
): CachedInfo {
  if (claims['active'] !== true) throw new InvalidTokenError('The access token is not active');
  const tokenType = claims['token_type'];
  // A DPoP-bound token is introspected as `token_type: DPoP` (RFC 9449 §6.2): one only where key-bound
  // tokens are accepted, and then only with the `cnf` that binds it.
  const dpopBound = context.acceptSenderConstrained === true && typeof tokenType === 'string' && tokenType.toLowerCase() === 'dpop' && isObject(claims['cnf']);
  if (tokenType !== undefined && !dpopBound && (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer')) {
    throw new InvalidTokenError('The token is not a bearer access token');
  }
  const { exp, nbf } = claims;
  if (exp !== undefined && (typeof exp !== 'number' || exp <= context.now - context.clockTolerance)) {
    throw new InvalidTokenError('The access token has expired');
  }
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > context.now + context.clockTolerance)) {
    throw new InvalidTokenError('The access token is not valid yet ("nbf")');
  }
  const resource = matchAudience(claims['aud'], context.audiences);
  if (resource === undefined) throw new InvalidTokenError('The access token was not issued for this resource ("aud")');
  if (context.issuer !== undefined && claims['iss'] !== context.issuer) {
    throw new InvalidTokenError('The access token was issued by another issuer ("iss")');
  }
  assertNotSenderConstrained(claims, context.acceptSenderConstrained === true);
  return freezeAuthInfo(verifiedInfo(claims, resource, context.readScopes));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
