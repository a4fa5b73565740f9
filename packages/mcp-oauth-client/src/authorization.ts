import * as oauth from 'oauth4webapi';
import { isHeaderSafeToken } from './access-token.js';
import { clientAuthentication, oauthClient, requestOptions, type ClientCredentials } from './client-authentication.js';
import type { AuthorizationServerMetadata } from './discovery.js';
import { McpOAuthError } from './errors.js';
import { isLoopbackHttpName, type FetchLike } from './safe-fetch.js';
import { scrubbed } from './scrubbed-error.js';
import type { StoredTokens } from './token-store.js';

/**
 * What must be kept between sending the user to the AS and receiving the callback (C-31): one record
 * per authorization, holding the verifier, the state and the issuer of the validated metadata.
 */
export interface PendingAuthorization {
  readonly state: string;
  readonly codeVerifier: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly resource: string;
  readonly scope?: string;
  /** When it was created (epoch ms), to expire abandoned authorizations. */
  readonly createdAt: number;
}

/** Inputs of {@link buildAuthorizationRequest}. */
export interface AuthorizationRequestInput {
  readonly authorizationServer: AuthorizationServerMetadata;
  readonly clientId: string;
  readonly redirectUri: string;
  /** RFC 8707 resource indicator, sent verbatim (C-25). */
  readonly resource: string;
  readonly scopes?: readonly string[];
  /** Extra query parameters (e.g. `prompt`). They cannot override the ones this function sets. */
  readonly extraParameters?: Readonly<Record<string, string>>;
  /** See {@link SafeFetchOptions.allowInsecureLoopback}: allows an http loopback authorization endpoint. Default false. */
  readonly allowInsecureLoopback?: boolean;
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** Refuses an AS that does not advertise PKCE `S256` (C-28); this package never falls back to `plain` or no PKCE. */
export function assertPkceSupported(as: AuthorizationServerMetadata): void {
  if (!as.code_challenge_methods_supported?.includes('S256')) {
    throw new McpOAuthError('pkce_unsupported', `${as.issuer} does not advertise PKCE S256 in code_challenge_methods_supported; refusing to proceed`);
  }
}

/** Refuses authorization URLs that are not https (http only for loopback with the insecure option) — C-48, C-50. */
export function assertAuthorizationUrl(url: URL, allowInsecureLoopback: boolean | undefined): void {
  const loopbackHttp = url.protocol === 'http:' && allowInsecureLoopback === true && isLoopbackHttpName(url);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    throw new McpOAuthError('invalid_url', `Refusing authorization URL with scheme ${url.protocol}; only https (or loopback http in development) is allowed`);
  }
  if (url.username || url.password) throw new McpOAuthError('invalid_url', 'Refusing authorization URL with credentials');
}

/**
 * Builds the authorization request (OAuth 2.1 §4.1.1): PKCE S256 (C-27, C-28), a random `state` (C-30),
 * `resource` (C-25), `scope` when there is one (C-19). Returns the URL and the record to keep until the callback (C-31).
 */
export async function buildAuthorizationRequest(input: AuthorizationRequestInput): Promise<{ url: URL; pending: PendingAuthorization }> {
  const as = input.authorizationServer;
  assertPkceSupported(as);
  if (!as.authorization_endpoint) throw new McpOAuthError('invalid_metadata', `${as.issuer} has no authorization_endpoint`);
  const url = new URL(as.authorization_endpoint);
  assertAuthorizationUrl(url, input.allowInsecureLoopback);
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const scope = input.scopes && input.scopes.length > 0 ? input.scopes.join(' ') : undefined;
  for (const [name, value] of Object.entries(input.extraParameters ?? {})) url.searchParams.set(name, value);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', input.clientId);
  url.searchParams.set('redirect_uri', input.redirectUri);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  url.searchParams.set('resource', input.resource);
  if (scope !== undefined) url.searchParams.set('scope', scope);
  else url.searchParams.delete('scope');
  return {
    url,
    pending: {
      state,
      codeVerifier,
      issuer: as.issuer,
      clientId: input.clientId,
      redirectUri: input.redirectUri,
      resource: input.resource,
      ...(scope !== undefined && { scope }),
      createdAt: (input.now ?? Date.now)(),
    },
  };
}

/**
 * Validates the authorization response (pure): RFC 9207 `iss` first by the four-row rule with plain
 * string comparison (C-32, C-33) — so a response from the wrong issuer is rejected before its `error`
 * is even read (C-34) —, then `state` (C-30), then `error`. Uses oauth4webapi's `validateAuthResponse`,
 * which checks in exactly that order. Returns the parameters carrying the `code`.
 */
export function validateAuthorizationResponse(as: AuthorizationServerMetadata, pending: PendingAuthorization, callback: URL | URLSearchParams): URLSearchParams {
  if (as.issuer !== pending.issuer) throw new McpOAuthError('iss_mismatch', 'The callback belongs to an authorization started with another authorization server');
  const params = callback instanceof URL ? callback.searchParams : callback;
  // RFC 9207 §2.4: an `iss` that is present is compared, whatever the AS advertises. oauth4webapi
  // skips an empty one when the AS does not advertise the parameter.
  if (params.has('iss') && params.get('iss') !== as.issuer) {
    throw new McpOAuthError('iss_mismatch', 'Authorization response failed the RFC 9207 issuer check (its "iss" is not the issuer)');
  }
  try {
    return oauth.validateAuthResponse(as, { client_id: pending.clientId }, params, pending.state);
  } catch (error) {
    // oauth4webapi's errors carry the callback's parameters, `code` included: never kept as a cause.
    if (error instanceof oauth.AuthorizationResponseError) {
      throw new McpOAuthError('authorization_denied', `The authorization server answered ${error.error}`, { cause: scrubbed(error), oauthError: error.error });
    }
    const message = error instanceof Error ? error.message : '';
    if (message.includes('"iss"')) throw new McpOAuthError('iss_mismatch', `Authorization response failed the RFC 9207 issuer check (${message})`, { cause: scrubbed(error) });
    if (message.includes('"state"')) throw new McpOAuthError('state_mismatch', `Authorization response failed the state check (${message})`, { cause: scrubbed(error) });
    throw new McpOAuthError('invalid_url', `Invalid authorization response (${message})`, { cause: scrubbed(error) });
  }
}

/** Shared inputs of the token-endpoint steps. */
export interface TokenRequestContext {
  readonly authorizationServer: AuthorizationServerMetadata;
  readonly client: ClientCredentials;
  readonly fetch: FetchLike;
  readonly allowInsecureLoopback?: boolean;
  /** RFC 8707 resource, sent verbatim on every token request (C-25). */
  readonly resource: string;
  /** Extra `DPoP` handle (RFC 9449), when the client uses DPoP. */
  readonly dpop?: oauth.DPoPHandle;
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** Converts a token response to what is stored: absolute expiry, granted scope (else the requested one). */
export function toStoredTokens(response: oauth.TokenEndpointResponse, context: TokenRequestContext, requestedScope: string | undefined, previousRefreshToken?: string): StoredTokens {
  // Thrown inside the token requests' try, so it leaves as their typed error; never with the token.
  if (!isHeaderSafeToken(response.access_token)) throw new Error('The access token issued has characters an Authorization header cannot carry (RFC 6749 §A.12)');
  const now = (context.now ?? Date.now)();
  const scope = response.scope ?? requestedScope;
  const refreshToken = response.refresh_token ?? previousRefreshToken;
  return {
    accessToken: response.access_token,
    tokenType: response.token_type === 'dpop' ? 'DPoP' : 'Bearer',
    ...(typeof response.expires_in === 'number' && { expiresAt: now + response.expires_in * 1000 }),
    ...(refreshToken !== undefined && { refreshToken }),
    ...(scope !== undefined && { scope }),
    issuer: context.authorizationServer.issuer,
    clientId: context.client.clientId,
    resource: context.resource,
  };
}

function tokenOptions(context: TokenRequestContext, extra: Record<string, string> = {}): oauth.TokenEndpointRequestOptions {
  return {
    ...requestOptions(context.fetch, context.allowInsecureLoopback),
    additionalParameters: { resource: context.resource, ...extra },
    ...(context.dpop !== undefined && { DPoP: context.dpop }),
  };
}

/**
 * Maps a token-endpoint failure to {@link McpOAuthError} without echoing anything token-like.
 * oauth4webapi attaches the parsed response to its errors (`cause.body`), and a malformed success
 * response still holds the tokens: the cause kept here is a copy with its name, message and code only.
 */
export function tokenError(code: 'token_request_failed' | 'refresh_failed', what: string, error: unknown): McpOAuthError {
  if (error instanceof McpOAuthError) return error;
  if (error instanceof oauth.ResponseBodyError) {
    return new McpOAuthError(code, `${what} was refused: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`, {
      cause: scrubbed(error),
      oauthError: error.error,
      status: error.status,
    });
  }
  const cause = scrubbed(error);
  return new McpOAuthError(code, `${what} failed: ${cause?.message ?? 'unknown error'}`, { cause });
}

/** Retries once when the AS asks for a DPoP nonce (RFC 9449 §8); the handle has remembered it. */
async function withDpopNonceRetry<T>(context: TokenRequestContext, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (context.dpop && oauth.isDPoPNonceError(error)) return attempt();
    throw error;
  }
}

/** Exchanges the code (OAuth 2.1 §4.1.3) with the PKCE verifier and `resource` (C-25). */
export async function exchangeAuthorizationCode(context: TokenRequestContext, pending: PendingAuthorization, params: URLSearchParams): Promise<StoredTokens> {
  const as = context.authorizationServer;
  const client = oauthClient(context.client);
  try {
    const response = await withDpopNonceRetry(context, async () =>
      oauth.processAuthorizationCodeResponse(
        as,
        client,
        await oauth.authorizationCodeGrantRequest(as, client, clientAuthentication(context.client), params, pending.redirectUri, pending.codeVerifier, tokenOptions(context)),
      ),
    );
    return toStoredTokens(response, context, pending.scope);
  } catch (error) {
    throw tokenError('token_request_failed', 'The authorization code exchange', error);
  }
}

/** Refreshes (OAuth 2.1 §4.3) with `resource` (C-25); keeps the old refresh token only if the AS issued none. */
export async function refreshTokens(context: TokenRequestContext, refreshToken: string, scope?: string): Promise<StoredTokens> {
  const as = context.authorizationServer;
  const client = oauthClient(context.client);
  try {
    const response = await withDpopNonceRetry(context, async () =>
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, clientAuthentication(context.client), refreshToken, tokenOptions(context, scope ? { scope } : {})),
      ),
    );
    return toStoredTokens(response, context, scope, refreshToken);
  } catch (error) {
    throw tokenError('refresh_failed', 'The refresh', error);
  }
}

/** The client-credentials grant (OAuth 2.1 §4.2, X-01…X-04) with `resource` and `scope`. */
export async function requestClientCredentialsToken(context: TokenRequestContext, scopes?: readonly string[]): Promise<StoredTokens> {
  const as = context.authorizationServer;
  const client = oauthClient(context.client);
  const scope = scopes && scopes.length > 0 ? scopes.join(' ') : undefined;
  const parameters: Record<string, string> = { resource: context.resource, ...(scope !== undefined && { scope }) };
  try {
    const response = await withDpopNonceRetry(context, async () =>
      oauth.processClientCredentialsResponse(
        as,
        client,
        await oauth.clientCredentialsGrantRequest(as, client, clientAuthentication(context.client), parameters, {
          ...requestOptions(context.fetch, context.allowInsecureLoopback),
          ...(context.dpop !== undefined && { DPoP: context.dpop }),
        }),
      ),
    );
    return toStoredTokens(response, context, scope);
  } catch (error) {
    throw tokenError('token_request_failed', 'The client credentials grant', error);
  }
}

/**
 * The RFC 7523 §2.1 jwt-bearer grant with `resource` and `scope`: used with an ID-JAG (enterprise-managed
 * authorization, X-10) and with a workload identity token (X-13).
 */
export async function requestJwtBearerToken(context: TokenRequestContext, assertion: string, scopes?: readonly string[]): Promise<StoredTokens> {
  const as = context.authorizationServer;
  const client = oauthClient(context.client);
  const scope = scopes && scopes.length > 0 ? scopes.join(' ') : undefined;
  const parameters: Record<string, string> = { assertion, resource: context.resource, ...(scope !== undefined && { scope }) };
  try {
    const response = await withDpopNonceRetry(context, async () =>
      oauth.processGenericTokenEndpointResponse(
        as,
        client,
        await oauth.genericTokenEndpointRequest(as, client, clientAuthentication(context.client), 'urn:ietf:params:oauth:grant-type:jwt-bearer', parameters, {
          ...requestOptions(context.fetch, context.allowInsecureLoopback),
          ...(context.dpop !== undefined && { DPoP: context.dpop }),
        }),
      ),
    );
    return toStoredTokens(response, context, scope);
  } catch (error) {
    throw tokenError('token_request_failed', 'The jwt-bearer grant', error);
  }
}
