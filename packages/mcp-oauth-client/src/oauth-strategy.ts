import type { AuthStrategy } from './auth-strategy.js';
import { McpOAuthError } from './errors.js';
import type { KnownOptions } from './known-options.js';
import { assertOAuthClientOptionNames, createOAuthClient, OAUTH_CLIENT_OPTIONS, type McpOAuthClient, type OAuthClientOptions } from './oauth-client.js';
import type { PreRegisteredClient } from './registration.js';
import type { StoredTokens } from './token-store.js';
import type { ResourceChallenge } from './www-authenticate.js';

/** How long a step-up or a re-authorization that hit its limit is remembered, failing at once meanwhile (C-24, C-52). */
const STEP_UP_FAILURE_TTL_MS = 5 * 60_000;
/** At most this many remembered failures. */
const STEP_UP_FAILURE_MAX = 256;

/** What {@link oauthStrategy} remembers across requests, per client (see {@link memoryOf}). */
interface ChallengeMemory {
  /** Step-ups per (resource, operation): capped across requests (C-24), so the count outlives one request. */
  readonly stepUps: Map<string, number>;
  /**
   * C-24 C-52: failures that fail at once for a while, instead of prompting the user again on every
   * new request: a (resource, operation) that exhausted its step-ups, whatever scope the server names
   * next; a resource that refused every new token, while requests still carry the last of them (a
   * success, a sign-out or tokens from elsewhere end it). Bounded, oldest evicted first.
   */
  readonly failures: Map<string, { readonly until: number; readonly token: string | undefined }>;
}

// Kept with the client, not the strategy: a `withOAuth` or an SDK transport made per request or per
// reconnection shares the client's tokens, and must share what those tokens already failed at too.
const memories = new WeakMap<McpOAuthClient, ChallengeMemory>();
function memoryOf(client: McpOAuthClient): ChallengeMemory {
  let memory = memories.get(client);
  if (memory === undefined) memories.set(client, (memory = { stepUps: new Map(), failures: new Map() }));
  return memory;
}

/** Per-request state of {@link oauthStrategy}. */
export interface OAuthStrategyState {
  /** The tokens the request is sent with; undefined before the first authorization. */
  readonly tokens: StoredTokens | undefined;
  /** 401s answered so far for this request. */
  readonly unauthorized: number;
}

/** An {@link AuthStrategy} backed by an {@link McpOAuthClient}, which it exposes for the programmatic calls. */
export interface OAuthStrategy extends AuthStrategy<OAuthStrategyState> {
  readonly client: McpOAuthClient;
}

/**
 * The full MCP OAuth flow as an {@link AuthStrategy}: discovery on the first 401 (C-01…C-08),
 * refresh or a new grant on a 401 (C-22), step-up on a 403 `insufficient_scope` capped per operation
 * (`maxStepUps`, C-24), DPoP proofs and nonces (RFC 9449). `withOAuth(fetch, options)` is
 * `withOAuth(fetch, oauthStrategy(options))`. Wrap it to add behaviour, e.g. a header or logging.
 *
 * @example
 * const oauth = oauthStrategy({ redirectUri, authorizationHandler: createLoopbackAuthorizationHandler() });
 * const authedFetch = withOAuth(fetch, { ...oauth, headers: async (r, s) => ({ ...(await oauth.headers(r, s)), 'x-tenant': 'acme' }) });
 */
export function oauthStrategy(clientOrOptions: McpOAuthClient | OAuthClientOptions): OAuthStrategy {
  return strategyFor(clientOrOptions, 'oauthStrategy');
}

/** True for an {@link McpOAuthClient}, false for the options to create one (which are checked as options). */
function isOAuthClient(value: McpOAuthClient | OAuthClientOptions): value is McpOAuthClient {
  return 'handleChallenge' in value;
}

/** {@link oauthStrategy}, with option names refused in the name of `where`, the factory the caller called. */
export function strategyFor(clientOrOptions: McpOAuthClient | OAuthClientOptions, where: string): OAuthStrategy {
  let client: McpOAuthClient;
  if (isOAuthClient(clientOrOptions)) client = clientOrOptions;
  else {
    assertOAuthClientOptionNames(clientOrOptions, where);
    client = createOAuthClient(clientOrOptions);
  }
  const maxStepUps = client.options.maxStepUps ?? 2;
  const maxUnauthorized = client.options.maxUnauthorizedRetries ?? 2;
  const now = client.options.now ?? Date.now;
  const { stepUps, failures } = memoryOf(client);
  const remember = (key: string, token?: string) => {
    failures.delete(key);
    failures.set(key, { until: now() + STEP_UP_FAILURE_TTL_MS, token });
    while (failures.size > STEP_UP_FAILURE_MAX) failures.delete(failures.keys().next().value!);
  };
  const failedRecently = (key: string, token?: string): boolean => {
    const failure = failures.get(key);
    if (failure === undefined) return false;
    if (now() < failure.until) return failure.token === token;
    failures.delete(key);
    return false;
  };
  const refusedKey = (serverUrl: string) => JSON.stringify([serverUrl, 401]);
  const counterKey = (serverUrl: string, operation: string) => JSON.stringify([serverUrl, operation]);

  return {
    client,
    // This strategy applies its own, finer caps below; the wrapper's bound only has to let them act.
    maxRetries: maxUnauthorized + maxStepUps,
    start: async (request) => ({ tokens: await client.tokens(request.serverUrl), unauthorized: 0 }),
    async headers(request, state) {
      if (!state.tokens) return {};
      const ctx = await client.context(request.serverUrl);
      return client.authorizationHeaders(ctx, state.tokens, { method: request.method, url: request.url });
    },
    onResponse(response, request) {
      client.rememberDpopNonce(request.url, response.headers.get('dpop-nonce'));
      if (response.ok) {
        stepUps.delete(counterKey(request.serverUrl, request.operation));
        failures.delete(refusedKey(request.serverUrl));
      }
    },
    async onChallenge({ status, challenge, request }, state) {
      const { serverUrl, operation } = request;
      if (status === 401) {
        if (state.tokens && challenge?.error === 'use_dpop_nonce' && state.unauthorized < maxUnauthorized) {
          return { action: 'retry', state: { ...state, unauthorized: state.unauthorized + 1 } };
        }
        // The token this server refused after the last fresh one it was given: sent again, it gets no new prompt.
        if (state.unauthorized === 0 && failedRecently(refusedKey(serverUrl), state.tokens?.accessToken)) {
          return { action: 'fail', error: new McpOAuthError('retry_limit', `${serverUrl} refused ${maxUnauthorized} new tokens recently; not authorizing again yet`, { status: 401 }) };
        }
        if (state.unauthorized >= maxUnauthorized) {
          remember(refusedKey(serverUrl), state.tokens?.accessToken);
          return { action: 'fail', error: new McpOAuthError('retry_limit', `${serverUrl} still answers 401 after ${maxUnauthorized} new tokens${serverSaid(challenge, state.tokens?.accessToken)}`, { status: 401 }) };
        }
        const tokens = await client.handleChallenge(serverUrl, challenge, state.tokens?.accessToken);
        return { action: 'retry', state: { tokens, unauthorized: state.unauthorized + 1 } };
      }
      if (challenge?.error !== 'insufficient_scope') return { action: 'fail' };
      const counter = counterKey(serverUrl, operation);
      const failureKey = JSON.stringify([serverUrl, operation, 403]);
      if (failedRecently(failureKey)) {
        return { action: 'fail', error: new McpOAuthError('step_up_limit', `Stepping up scopes for ${operation} failed recently; not asking again yet`, { status: 403 }) };
      }
      const attempts = stepUps.get(counter) ?? 0;
      // Re-authorizing for scopes the token already holds cannot help: stop instead of looping (C-24, C-52).
      const held = new Set((state.tokens?.scope ?? '').split(' ').filter(Boolean));
      const futile = state.tokens !== undefined && challenge.scopes !== undefined && challenge.scopes.length > 0 && challenge.scopes.every((s) => held.has(s));
      if (attempts >= maxStepUps || futile) {
        stepUps.delete(counter);
        remember(failureKey);
        return { action: 'fail', error: new McpOAuthError('step_up_limit', `Gave up stepping up scopes for ${operation} after ${attempts} attempts${serverSaid(challenge, state.tokens?.accessToken)}`, { status: 403 }) };
      }
      stepUps.set(counter, attempts + 1);
      const tokens = await client.handleChallenge(serverUrl, challenge, state.tokens?.accessToken);
      return { action: 'retry', state: { ...state, tokens } };
    },
  };
}

/** Longest `error_description` quoted from a server. */
const MAX_QUOTED = 200;

/**
 * What the server's last challenge said, for the error that gives up: often the actionable part
 * ("failed the aud check"). The server's own text, so only RFC 6750 §3's printable characters, cut
 * short, and never the access token the request carried.
 */
function serverSaid(challenge: ResourceChallenge | undefined, accessToken: string | undefined): string {
  // A server that echoes the token it refused must not get it into our message (S-22).
  const redacted = (value: string) => (accessToken ? value.split(accessToken).join('[the access token]') : value);
  const printable = (value: string) => redacted(value).replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_QUOTED);
  const parts = [
    ...(challenge?.error !== undefined ? [`error=${printable(challenge.error)}`] : []),
    ...(challenge?.params['error_description'] !== undefined ? [`"${printable(challenge.params['error_description'])}"`] : []),
  ];
  return parts.length === 0 ? '' : `; the server said ${parts.join(' ')}`;
}

/** Options of {@link clientCredentialsStrategy}: those of {@link createOAuthClient} without `grant`, with the credentials required. */
export type ClientCredentialsStrategyOptions = Omit<OAuthClientOptions, 'grant' | 'preRegistered'> & {
  /** The pre-registered credentials (X-01, X-02: no dynamic registration for this grant). */
  readonly preRegistered: readonly [PreRegisteredClient, ...PreRegisteredClient[]];
};

// Those of createOAuthClient but `grant`, which this strategy sets (its options type is derived the same way).
const { grant: _grant, ...CLIENT_CREDENTIALS_STRATEGY_OPTIONS } = OAUTH_CLIENT_OPTIONS;

/**
 * The client-credentials grant as an {@link AuthStrategy}: machine-to-machine, with discovery,
 * token caching and a new token on a 401. Same as `oauthStrategy({ ...options, grant: { type: 'client_credentials' } })`.
 *
 * @example
 * const authedFetch = withOAuth(fetch, clientCredentialsStrategy({ preRegistered: [{ clientId, clientSecret, issuer }] }));
 */
export function clientCredentialsStrategy(options: ClientCredentialsStrategyOptions): OAuthStrategy {
  assertOAuthClientOptionNames(options, 'clientCredentialsStrategy', CLIENT_CREDENTIALS_STRATEGY_OPTIONS);
  return oauthStrategy(createOAuthClient({ ...options, grant: { type: 'client_credentials' } }));
}
