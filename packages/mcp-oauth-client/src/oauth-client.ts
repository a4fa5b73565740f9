import * as oauth from 'oauth4webapi';
import {
  buildAuthorizationRequest,
  exchangeAuthorizationCode,
  refreshTokens,
  requestClientCredentialsToken,
  requestJwtBearerToken,
  validateAuthorizationResponse,
  type PendingAuthorization,
  type TokenRequestContext,
} from './authorization.js';
import type { ClientPrivateKey } from './client-authentication.js';
import { createDpopProof } from './dpop.js';
import { canonicalServerUrl, discover, type DiscoveryResult, type ProtectedResourceMetadata } from './discovery.js';
import { McpOAuthError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';
import { silentLogger, type Logger } from './logger.js';
import type { RefreshLock } from './refresh-lock.js';
import { isHeaderSafeToken } from './access-token.js';
import { assertClientMetadataUrl, assertPreRegisteredClients, resolveClient, type ClientMetadata, type PreRegisteredClient, type ResolvedClient } from './registration.js';
import { createSafeFetch, isLoopbackHttpName, withTypedFailures, type FetchLike, type HostLookup } from './safe-fetch.js';
import { selectScopes, splitScope } from './scopes.js';
import { createTokenLifecycle, type TokenLifecycle } from './token-lifecycle.js';
import { asFiledTokensKeys, asStoredClient, clientKey, createMemoryStore, tokensFilingKey, tokensKey, tokensKeyParts, type StoredTokens, type TokenStore } from './token-store.js';
import type { ResourceChallenge } from './www-authenticate.js';

/**
 * The interactive seam: receives the authorization URL (already checked: https, or loopback http in
 * development) and resolves with the callback URL the AS redirected to. See
 * {@link createHeadlessAuthorizationHandler} and {@link createLoopbackAuthorizationHandler}.
 */
export type AuthorizationHandler = (
  authorizationUrl: URL,
  context: { readonly redirectUri: string; /** The client's SSRF-guarded fetch. */ readonly fetch: FetchLike },
) => Promise<URL | string>;

/** Context given to assertion providers. */
export interface AssertionContext {
  readonly resource: string;
  readonly issuer: string;
  readonly scopes: readonly string[] | undefined;
  readonly fetch: FetchLike;
}

/** How tokens are obtained. A discriminated union: exactly one grant per client. */
export type GrantOptions =
  /** Authorization code + PKCE for a user (default). Needs `redirectUri` and an `authorizationHandler` (or the programmatic API). */
  | { readonly type: 'authorization_code' }
  /** Client credentials: machine-to-machine with pre-registered credentials. */
  | { readonly type: 'client_credentials' }
  /**
   * RFC 7523 jwt-bearer: `assertion` returns the JWT to present — a workload identity token,
   * or an ID-JAG ({@link enterpriseManagedAuthorization} builds this grant).
   */
  | { readonly type: 'jwt_bearer'; readonly assertion: (context: AssertionContext) => Promise<string> };

/** Options of {@link createOAuthClient}. Every field is optional except what the chosen grant needs. */
export interface OAuthClientOptions {
  /** Default `{ type: 'authorization_code' }`. */
  readonly grant?: GrantOptions;
  /** The redirect URI registered for this client (C-29). Required for `authorization_code`. */
  readonly redirectUri?: string;
  /** Turns an authorization URL into the callback URL. Without it, interactive authorization fails with `authorization_required`. */
  readonly authorizationHandler?: AuthorizationHandler;
  /** Pre-registered credentials, each bound to its issuer when known (C-14, C-18). */
  readonly preRegistered?: readonly PreRegisteredClient[];
  /** This client's Client ID Metadata Document URL (C-10, C-11). */
  readonly clientMetadataUrl?: string;
  /** Key for `private_key_jwt` with the CIMD client id (C-12). */
  readonly clientMetadataPrivateKey?: ClientPrivateKey;
  /**
   * RFC 7591 metadata for dynamic registration. Default: `{ client_name: 'MCP client', redirect_uris: [redirectUri] }`
   * when a `redirectUri` is given (so DCR works out of the box), otherwise no dynamic registration.
   */
  readonly clientMetadata?: ClientMetadata | false;
  /** Tokens and registered clients. Default: an in-memory store. */
  readonly store?: TokenStore;
  /** Cross-process refresh lock. Default: in-process only. */
  readonly lock?: RefreshLock;
  /** Partition of the store for multi-user hosts: tokens are kept per account. Default `default`. */
  readonly account?: string;
  /**
   * INSECURE, development and test only: lets the client talk to loopback servers over http
   * (`http://127.0.0.1`, `http://localhost`). Default false. Never derive it from the environment.
   */
  readonly allowInsecureLoopback?: boolean;
  /** DNS for the SSRF guard. Default `dns.promises.lookup`. */
  readonly lookup?: HostLookup;
  /**
   * The fetch for OAuth traffic (discovery, registration, token endpoint). Default: {@link createSafeFetch}.
   * What it throws reaches callers as `fetch_failed`, with the original as `cause`.
   */
  readonly oauthFetch?: FetchLike;
  /** Times one operation may be re-authorized for more scope before failing with `step_up_limit` (C-24). Default 2. */
  readonly maxStepUps?: number;
  /** Times a request may be re-sent after a 401 before failing with `retry_limit`. Default 2. */
  readonly maxUnauthorizedRetries?: number;
  /** Refresh this long before expiry, in ms. Default 60 000. */
  readonly refreshSkewMs?: number;
  /** Add `offline_access` when the AS advertises it (C-39). Default true. */
  readonly requestOfflineAccess?: boolean;
  /** Sent as `MCP-Protocol-Version` on discovery (L-01). Default not sent. */
  readonly protocolVersion?: string;
  /** Chooses among several PRM `authorization_servers` (C-05). Default: the first. */
  readonly selectAuthorizationServer?: (servers: readonly string[]) => string;
  /**
   * Use DPoP (RFC 9449, X-12) with this key pair wherever the AS advertises `dpop_signing_alg_values_supported`:
   * sender-constrained tokens, a fresh proof per request. Default: Bearer only.
   */
  readonly dpopKeyPair?: oauth.CryptoKeyPair;
  /** Pending authorizations expire after this long, in ms. Default 600 000. */
  readonly pendingTtlMs?: number;
  /** Where the client reports what it does (`debug`) and what may be wrong (`warn`); never tokens. Default: silent. */
  readonly logger?: Logger;
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** Discovery and client for one MCP server. */
export interface ServerContext {
  readonly serverUrl: string;
  readonly discovery: DiscoveryResult;
  readonly client: ResolvedClient;
  readonly tokensKey: string;
  readonly dpop?: oauth.DPoPHandle;
}

/** The orchestrator: every grant and lifecycle rule behind four calls. */
export interface McpOAuthClient {
  /** Discovery + client for `serverUrl`, cached; `challenge` (from a 401) may point at another PRM. */
  context(serverUrl: string | URL, challenge?: ResourceChallenge, options?: { refresh?: boolean }): Promise<ServerContext>;
  /** Usable tokens for a server already discovered, refreshed if needed; undefined when none. */
  tokens(serverUrl: string | URL, rejectedAccessToken?: string): Promise<StoredTokens | undefined>;
  /**
   * Reacts to a 401/403 challenge: refresh, else a new grant (step-up unions granted scopes, C-22).
   * For `authorization_code` this calls the {@link AuthorizationHandler}.
   */
  handleChallenge(serverUrl: string | URL, challenge: ResourceChallenge | undefined, rejectedAccessToken: string | undefined): Promise<StoredTokens>;
  /** Programmatic API, step 1: the URL to send the user to. The state and PKCE verifier stay here, per authorization. */
  startAuthorization(serverUrl: string | URL, options?: { challenge?: ResourceChallenge; scopes?: readonly string[] }): Promise<{ authorizationUrl: URL; state: string }>;
  /** Programmatic API, step 2: the callback URL the AS redirected to; validates it (C-30…C-34), exchanges the code, stores the tokens. */
  completeAuthorization(callbackUrl: string | URL): Promise<StoredTokens>;
  /** Forgets the stored tokens for a server (discovering it first if this client has not yet). */
  signOut(serverUrl: string | URL): Promise<void>;
  /** Builds the `Authorization` (and `DPoP`) headers for a request with these tokens. */
  authorizationHeaders(context: ServerContext, tokens: StoredTokens, request: { method: string; url: URL }): Promise<Record<string, string>>;
  /** Remembers a resource server's `DPoP-Nonce` (RFC 9449 §9) for the next proof to its origin. */
  rememberDpopNonce(url: URL, nonce: string | null): void;
  /** The fetch used for OAuth traffic (SSRF-guarded). */
  readonly oauthFetch: FetchLike;
  readonly options: Readonly<OAuthClientOptions>;
}

export const OAUTH_CLIENT_OPTIONS: KnownOptions<OAuthClientOptions> = {
  grant: true,
  redirectUri: true,
  authorizationHandler: true,
  preRegistered: true,
  clientMetadataUrl: true,
  clientMetadataPrivateKey: true,
  clientMetadata: true,
  store: true,
  lock: true,
  account: true,
  allowInsecureLoopback: true,
  lookup: true,
  oauthFetch: true,
  maxStepUps: true,
  maxUnauthorizedRetries: true,
  refreshSkewMs: true,
  requestOfflineAccess: true,
  protocolVersion: true,
  selectAuthorizationServer: true,
  dpopKeyPair: true,
  pendingTtlMs: true,
  logger: true,
  now: true,
};

const GRANT_OPTIONS: { readonly [G in GrantOptions as G['type']]: KnownOptions<G> } = {
  authorization_code: { type: true },
  client_credentials: { type: true },
  jwt_bearer: { type: true, assertion: true },
};

const PRE_REGISTERED_CLIENT: KnownOptions<PreRegisteredClient> = { clientId: true, clientSecret: true, privateKey: true, issuer: true, tokenEndpointAuthMethod: true };
const CLIENT_PRIVATE_KEY: KnownOptions<ClientPrivateKey> = { key: true, kid: true };

/**
 * Refuses option names {@link OAuthClientOptions} does not have, at its top level (`known`, for the
 * factories taking a variant of it) and in its plain nested objects: each `preRegistered` entry and its
 * `privateKey`, `clientMetadataPrivateKey`, and `grant` per its `type`. `clientMetadata` is left open
 * (RFC 7591 metadata is extensible), and so are the objects behind interfaces (`store`, `lock`, `logger`).
 * `where` names the factory the caller called.
 */
export function assertOAuthClientOptionNames(
  options: OAuthClientOptions | Omit<OAuthClientOptions, 'grant'>,
  where: string,
  known: Readonly<Record<string, true>> = OAUTH_CLIENT_OPTIONS,
): void {
  assertKnownOptions(options, known, `${where} options`);
  const grant = 'grant' in options ? options.grant : undefined;
  if (typeof grant === 'object' && grant !== null) {
    if (!Object.hasOwn(GRANT_OPTIONS, grant.type)) throw new McpOAuthError('invalid_options', `${where}: grant.type must be one of ${Object.keys(GRANT_OPTIONS).join(', ')}`);
    assertKnownOptions(grant, GRANT_OPTIONS[grant.type], `${where} grant (${grant.type})`);
  }
  if (Array.isArray(options.preRegistered)) {
    options.preRegistered.forEach((client: PreRegisteredClient, i: number) => {
      assertKnownOptions(client, PRE_REGISTERED_CLIENT, `${where} preRegistered[${i}]`);
      assertKnownOptions(client?.privateKey, CLIENT_PRIVATE_KEY, `${where} preRegistered[${i}].privateKey`);
    });
  }
  assertKnownOptions(options.clientMetadataPrivateKey, CLIENT_PRIVATE_KEY, `${where} clientMetadataPrivateKey`);
}

/** A retry budget: a whole number, 0 or more, or `invalid_options` naming the option. */
function assertCount(value: number | undefined, option: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0)) throw new McpOAuthError('invalid_options', `${option} must be a whole number, 0 or more`);
}

/** A time in ms: finite, 0 or more (more than 0 with `positive`), or `invalid_options` naming the option. */
function assertDuration(value: number | undefined, option: string, { positive = false } = {}): void {
  if (value !== undefined && !(Number.isFinite(value) && (positive ? value > 0 : value >= 0))) {
    throw new McpOAuthError('invalid_options', `${option} must be a finite number of milliseconds, ${positive ? 'more than 0' : '0 or more'}`);
  }
}

/**
 * Whether the resource server takes DPoP-bound tokens, as far as it has said: its metadata's `dpop_*`
 * fields, else the schemes of the challenge at hand; `undefined` when it has said nothing either way.
 */
function resourceTakesDpop(metadata: ProtectedResourceMetadata | undefined, challenge: ResourceChallenge | undefined): boolean | undefined {
  const algs = metadata?.['dpop_signing_alg_values_supported'];
  if (metadata?.['dpop_bound_access_tokens_required'] === true || (Array.isArray(algs) && algs.length > 0)) return true;
  if (challenge === undefined) return undefined;
  return challenge.scheme === 'dpop' || challenge.schemes?.includes('dpop') === true;
}

/** Token store keys remembered per server and account (see `saveTokens`). */
const MAX_FILED_KEYS = 16;
/** Read-add-write rounds of one filing before giving up on it (see `fileTokensKey`). */
const MAX_FILING_ROUNDS = 5;

interface PendingRecord {
  readonly pending: PendingAuthorization;
  readonly serverUrl: string;
}

/**
 * Creates the orchestrator. Validates options once (misconfigurations fail here, `invalid_options`).
 *
 * @example
 * const client = createOAuthClient({ redirectUri: 'http://127.0.0.1:8765/callback', authorizationHandler: createLoopbackAuthorizationHandler() });
 * const fetch = withOAuth(globalThis.fetch, client);
 */
export function createOAuthClient(options: OAuthClientOptions = {}): McpOAuthClient {
  assertOAuthClientOptionNames(options, 'createOAuthClient');
  const grant = options.grant ?? { type: 'authorization_code' };
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const account = options.account ?? 'default';
  const pendingTtlMs = options.pendingTtlMs ?? 600_000;
  assertCount(options.maxStepUps, 'maxStepUps');
  assertCount(options.maxUnauthorizedRetries, 'maxUnauthorizedRetries');
  assertDuration(options.refreshSkewMs, 'refreshSkewMs');
  assertDuration(options.pendingTtlMs, 'pendingTtlMs', { positive: true });
  if (grant.type === 'authorization_code' && !options.redirectUri) throw new McpOAuthError('invalid_options', 'redirectUri is required for the authorization_code grant');
  if (options.redirectUri) assertRedirectUri(options.redirectUri);
  if (options.clientMetadataUrl) assertClientMetadataUrl(options.clientMetadataUrl);
  if (grant.type !== 'authorization_code' && !options.preRegistered?.length) {
    throw new McpOAuthError('invalid_options', `The ${grant.type} grant needs preRegistered credentials (X-02: no dynamic registration)`);
  }
  if (options.preRegistered) assertPreRegisteredClients(options.preRegistered);
  const store = options.store ?? createMemoryStore();
  const oauthFetch = options.oauthFetch ? withTypedFailures(options.oauthFetch) : createSafeFetch({ allowInsecureLoopback: options.allowInsecureLoopback === true, ...(options.lookup && { lookup: options.lookup }) });
  const lifecycle: TokenLifecycle = createTokenLifecycle({
    store,
    ...(options.lock && { lock: options.lock }),
    ...(options.refreshSkewMs !== undefined && { refreshSkewMs: options.refreshSkewMs }),
    now,
  });
  const clientMetadata: ClientMetadata | undefined =
    options.clientMetadata === false
      ? undefined
      : (options.clientMetadata ?? (options.redirectUri ? { client_name: 'MCP client', redirect_uris: [options.redirectUri] } : undefined));
  const contexts = new Map<string, Promise<ServerContext>>();
  const obtaining = new Map<string, Promise<StoredTokens>>();
  const pendings = new Map<string, PendingRecord>();
  const dpopNonces = new Map<string, string>();
  const dpop = options.dpopKeyPair ? oauth.DPoP({}, options.dpopKeyPair) : undefined;

  const keyOf = (serverUrl: string | URL) => canonicalServerUrl(serverUrl);

  async function buildContext(serverUrl: string, challenge: ResourceChallenge | undefined): Promise<ServerContext> {
    const discovery = await discover(new URL(serverUrl), {
      fetch: oauthFetch,
      ...(challenge?.resourceMetadata !== undefined && { resourceMetadata: challenge.resourceMetadata }),
      ...(options.protocolVersion !== undefined && { protocolVersion: options.protocolVersion }),
      ...(options.selectAuthorizationServer && { selectAuthorizationServer: options.selectAuthorizationServer }),
    });
    const client = await resolveClient(discovery.authorizationServer, {
      store,
      account,
      logger,
      fetch: oauthFetch,
      allowInsecureLoopback: options.allowInsecureLoopback === true,
      ...(options.preRegistered && { preRegistered: options.preRegistered }),
      ...(options.clientMetadataUrl !== undefined && { clientMetadataUrl: options.clientMetadataUrl }),
      ...(options.clientMetadataPrivateKey && { clientMetadataPrivateKey: options.clientMetadataPrivateKey }),
      ...(clientMetadata && grant.type === 'authorization_code' && { clientMetadata }),
    });
    logger.debug?.(`Using ${discovery.authorizationServer.issuer} for ${serverUrl} (client from ${client.source})`);
    return {
      serverUrl,
      discovery,
      client,
      tokensKey: tokensKey({ account, issuer: discovery.authorizationServer.issuer, clientId: client.clientId, resource: discovery.resource }),
      // DPoP only where both ends take it: the AS advertises it (RFC 9449 §5.1), and the resource server
      // does not say otherwise: its metadata (RFC 9728 §2) or the challenge at hand (RFC 9449 §7.1)
      // offers it, or neither says anything. A DPoP-bound token is useless to a Bearer-only server,
      // which would refuse it again and again.
      ...(dpop && (discovery.authorizationServer.dpop_signing_alg_values_supported?.length ?? 0) > 0 && resourceTakesDpop(discovery.resourceMetadata, challenge) !== false && { dpop }),
    };
  }

  async function context(serverUrl: string | URL, challenge?: ResourceChallenge, opts: { refresh?: boolean } = {}): Promise<ServerContext> {
    const key = keyOf(serverUrl);
    let existing = contexts.get(key);
    if (!existing || opts.refresh) {
      existing = buildContext(key, challenge);
      contexts.set(key, existing);
      existing.catch(() => {
        if (contexts.get(key) === existing) contexts.delete(key);
      });
    }
    return existing;
  }

  const tokenContext = (ctx: ServerContext): TokenRequestContext => ({
    authorizationServer: ctx.discovery.authorizationServer,
    client: ctx.client,
    fetch: oauthFetch,
    allowInsecureLoopback: options.allowInsecureLoopback === true,
    resource: ctx.discovery.resource,
    now,
    ...(ctx.dpop && { dpop: ctx.dpop }),
  });

  async function tokensFor(ctx: ServerContext, rejected?: string): Promise<StoredTokens | undefined> {
    return lifecycle.ensureFresh(
      ctx.tokensKey,
      async (current) => {
        const refreshed = await refreshTokens(tokenContext(ctx), current.refreshToken!);
        // C-22: a refresh response without `scope` means the scope is unchanged (RFC 6749 §5.1) — keep it,
        // so a later step-up still asks for everything already granted.
        return refreshed.scope === undefined && current.scope !== undefined ? { ...refreshed, scope: current.scope } : refreshed;
      },
      rejected,
    );
  }

  // Where a server's tokens were filed for this account, so that signOut needs no discovery (a CLI's
  // logout while the server is down or has moved). Written before the tokens, so it never misses any;
  // bounded (the oldest key is dropped from the record, its tokens left to discovery), since a server
  // that names another AS on every sign-in would otherwise grow it.
  const filingKey = (serverUrl: string) => tokensFilingKey({ account, serverUrl });
  async function saveTokens(ctx: ServerContext, tokens: StoredTokens): Promise<void> {
    await fileTokensKey(ctx.serverUrl, ctx.tokensKey);
    await lifecycle.save(ctx.tokensKey, tokens);
  }
  // Read, add, write, and read again: another process or client filing at the same moment may have
  // written over this key, which is then added again. The last writer's own key always survives its
  // write, so concurrent filers settle within a few rounds.
  async function fileTokensKey(serverUrl: string, key: string): Promise<void> {
    for (let round = 0; round < MAX_FILING_ROUNDS; round++) {
      const filed = asFiledTokensKeys(await store.get(filingKey(serverUrl)));
      if (filed.includes(key)) return;
      await store.set(filingKey(serverUrl), { tokensKeys: [...filed, key].slice(-MAX_FILED_KEYS) });
    }
  }
  /** Whether tokens filed under `key` are this client's: obtained under a client id it uses at that issuer. */
  async function isOwnTokensKey(key: string): Promise<boolean> {
    const parts = tokensKeyParts(key);
    if (parts === undefined || parts.account !== account) return false;
    if (options.preRegistered?.some((c) => c.clientId === parts.clientId && (c.issuer === undefined || c.issuer === parts.issuer))) return true;
    if (options.clientMetadataUrl !== undefined && parts.clientId === options.clientMetadataUrl) return true;
    return asStoredClient(await store.get(clientKey(parts.issuer)))?.clientId === parts.clientId;
  }

  async function startWith(ctx: ServerContext, scopes: readonly string[] | undefined): Promise<{ authorizationUrl: URL; state: string }> {
    for (const [state, record] of pendings) if (now() - record.pending.createdAt > pendingTtlMs) pendings.delete(state);
    const { url, pending } = await buildAuthorizationRequest({
      authorizationServer: ctx.discovery.authorizationServer,
      clientId: ctx.client.clientId,
      redirectUri: options.redirectUri!,
      resource: ctx.discovery.resource,
      ...(scopes && { scopes }),
      allowInsecureLoopback: options.allowInsecureLoopback === true,
      now,
    });
    pendings.set(pending.state, { pending, serverUrl: ctx.serverUrl });
    return { authorizationUrl: url, state: pending.state };
  }

  function scopesFor(ctx: ServerContext, challenge: ResourceChallenge | undefined, granted: StoredTokens | undefined): string[] | undefined {
    const stepUp = challenge?.error === 'insufficient_scope';
    return selectScopes({
      ...(challenge?.scopes && { challenged: challenge.scopes }),
      ...(ctx.discovery.resourceMetadata?.scopes_supported && { resourceScopesSupported: ctx.discovery.resourceMetadata.scopes_supported }),
      ...(ctx.discovery.authorizationServer.scopes_supported && { authorizationServerScopesSupported: ctx.discovery.authorizationServer.scopes_supported }),
      ...(stepUp && granted?.scope !== undefined && { granted: splitScope(granted.scope) }),
      requestOfflineAccess: grant.type === 'authorization_code' && options.requestOfflineAccess !== false,
    });
  }

  async function completeAuthorization(callbackUrl: string | URL): Promise<StoredTokens> {
    const callback = URL.parse(String(callbackUrl));
    if (!callback) throw new McpOAuthError('invalid_url', 'The authorization callback is not an absolute URL');
    const state = callback.searchParams.get('state');
    const record = state === null ? undefined : pendings.get(state);
    if (!record || now() - record.pending.createdAt > pendingTtlMs) {
      throw new McpOAuthError('unknown_authorization', 'The callback matches no pending authorization (missing, unknown or expired state)');
    }
    // One-shot: a callback is consumed whatever its outcome.
    pendings.delete(record.pending.state);
    const ctx = await context(record.serverUrl);
    if (ctx.discovery.authorizationServer.issuer !== record.pending.issuer || ctx.client.clientId !== record.pending.clientId) {
      throw new McpOAuthError('iss_mismatch', 'The authorization server changed while the authorization was pending');
    }
    // The code is exchanged for the resource it was requested for, or not at all (RFC 8707 §2, C-25):
    // a metadata re-read in between may have named another one.
    if (ctx.discovery.resource !== record.pending.resource) {
      throw new McpOAuthError('resource_mismatch', `The protected resource changed while the authorization was pending (${record.pending.resource} → ${ctx.discovery.resource})`);
    }
    const params = validateAuthorizationResponse(ctx.discovery.authorizationServer, record.pending, callback);
    const tokens = await exchangeAuthorizationCode(tokenContext(ctx), record.pending, params);
    await saveTokens(ctx, tokens);
    return tokens;
  }

  async function obtain(ctx: ServerContext, challenge: ResourceChallenge | undefined, granted: StoredTokens | undefined): Promise<StoredTokens> {
    const scopes = scopesFor(ctx, challenge, granted);
    let tokens: StoredTokens;
    switch (grant.type) {
      case 'client_credentials':
        tokens = await requestClientCredentialsToken(tokenContext(ctx), scopes);
        break;
      case 'jwt_bearer': {
        const assertion = await grant.assertion({ resource: ctx.discovery.resource, issuer: ctx.discovery.authorizationServer.issuer, scopes, fetch: oauthFetch });
        tokens = await requestJwtBearerToken(tokenContext(ctx), assertion, scopes);
        break;
      }
      case 'authorization_code': {
        if (!options.authorizationHandler) {
          throw new McpOAuthError('authorization_required', `Authorization needed for ${ctx.serverUrl}; configure an authorizationHandler or use startAuthorization()`);
        }
        const { authorizationUrl, state } = await startWith(ctx, scopes);
        const callback = await options.authorizationHandler(authorizationUrl, { redirectUri: options.redirectUri!, fetch: oauthFetch });
        // Only the answer to this request: a handler that hands back another pending authorization's
        // callback (a shared redirect URI) would have this server sent another resource's tokens (C-30).
        if (URL.parse(String(callback))?.searchParams.get('state') !== state) {
          pendings.delete(state);
          throw new McpOAuthError('state_mismatch', `The authorization handler returned a callback for another authorization than the one started for ${ctx.serverUrl}`);
        }
        return completeAuthorization(callback);
      }
    }
    await saveTokens(ctx, tokens);
    return tokens;
  }

  async function handleChallenge(serverUrl: string | URL, challenge: ResourceChallenge | undefined, rejected: string | undefined): Promise<StoredTokens> {
    const key = keyOf(serverUrl);
    const stepUp = challenge?.error === 'insufficient_scope';
    const flightKey = `${key}\n${rejected ?? ''}\n${stepUp ? (challenge?.scopes ?? []).join(' ') : ''}`;
    let flight = obtaining.get(flightKey);
    if (!flight) {
      flight = (async () => {
        // A rejected token may mean the server moved to another AS (C-18): discover again.
        const ctx = await context(key, challenge, { refresh: rejected !== undefined || challenge?.resourceMetadata !== undefined });
        const current = await lifecycle.read(ctx.tokensKey);
        if (!stepUp) {
          const fresh = await tokensFor(ctx, rejected).catch((error: unknown) => {
            if (error instanceof McpOAuthError && error.code === 'refresh_failed') return undefined;
            throw error;
          });
          if (fresh) return fresh;
        }
        return obtain(ctx, challenge, current);
      })().finally(() => obtaining.delete(flightKey));
      obtaining.set(flightKey, flight);
    }
    return flight;
  }

  return {
    options,
    oauthFetch,
    context,
    async tokens(serverUrl, rejected) {
      const existing = contexts.get(keyOf(serverUrl));
      if (!existing) return undefined;
      try {
        return await tokensFor(await existing, rejected);
      } catch (error) {
        // A refused refresh has already removed the dead tokens: the caller re-authorizes on the 401.
        if (error instanceof McpOAuthError && error.code === 'refresh_failed') {
          logger.warn(`Refresh for ${keyOf(serverUrl)} failed (${error.oauthError ?? 'network'}); authorization will be requested again`);
          return undefined;
        }
        throw error;
      }
    },
    handleChallenge,
    async startAuthorization(serverUrl, opts = {}) {
      if (grant.type !== 'authorization_code') throw new McpOAuthError('invalid_options', 'startAuthorization needs the authorization_code grant');
      const ctx = await context(serverUrl, opts.challenge);
      const granted = await lifecycle.read(ctx.tokensKey);
      return startWith(ctx, opts.scopes ?? scopesFor(ctx, opts.challenge, granted));
    },
    completeAuthorization,
    rememberDpopNonce(url, nonce) {
      if (nonce) dpopNonces.set(url.origin, nonce);
    },
    async signOut(serverUrl) {
      const server = keyOf(serverUrl);
      const filed = asFiledTokensKeys(await store.get(filingKey(server)));
      // Only this client's: a store may be shared by several clients of one account. Tokens saved
      // before their filing was recorded can only be found by discovering the server.
      const own: string[] = [];
      for (const filedKey of filed) if (await isOwnTokensKey(filedKey)) own.push(filedKey);
      for (const filedKey of own.length > 0 ? own : [(await context(server)).tokensKey]) await store.delete(filedKey);
      const others = filed.filter((filedKey) => !own.includes(filedKey));
      if (others.length > 0) await store.set(filingKey(server), { tokensKeys: others });
      else await store.delete(filingKey(server));
    },
    async authorizationHeaders(ctx, tokens, request) {
      // Tokens go only to the resource they were issued for, from the AS that issued them (RFC 8707,
      // C-18), whatever produced them: none are sent otherwise, and the server's 401 starts over.
      if (tokens.resource !== ctx.discovery.resource || tokens.issuer !== ctx.discovery.authorizationServer.issuer) return {};
      if (!isHeaderSafeToken(tokens.accessToken)) throw new McpOAuthError('storage_failed', 'A stored access token has characters an Authorization header cannot carry');
      if (tokens.tokenType === 'DPoP' && options.dpopKeyPair) {
        const nonce = dpopNonces.get(request.url.origin);
        const proof = await createDpopProof(options.dpopKeyPair, { method: request.method, url: request.url, accessToken: tokens.accessToken, ...(nonce !== undefined && { nonce }) });
        return { authorization: `DPoP ${tokens.accessToken}`, dpop: proof };
      }
      return { authorization: `Bearer ${tokens.accessToken}` };
    },
  };
}

/** C-40: https, or http on a loopback host; absolute and without a fragment (RFC 6749 §3.1.2). */
function assertRedirectUri(value: string): void {
  let redirect: URL;
  try {
    redirect = new URL(value);
  } catch {
    throw new McpOAuthError('invalid_options', `redirectUri must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (redirect.protocol !== 'https:' && !(redirect.protocol === 'http:' && isLoopbackHttpName(redirect))) {
    throw new McpOAuthError('invalid_options', 'redirectUri must be https or a loopback http URL (C-40)');
  }
  if (value.includes('#')) throw new McpOAuthError('invalid_options', 'redirectUri must not contain a fragment (RFC 6749 §3.1.2)');
}
