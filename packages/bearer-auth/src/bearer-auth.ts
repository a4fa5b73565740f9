import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  answerFromMemory,
  assertKnownOptions,
  ConfigurationError,
  InsufficientScopeError,
  InvalidTokenError,
  TokenVerificationError,
  verifierTrust,
  type AuthInfo,
  type KnownOptions,
  type TokenVerifier,
  type VerifierTrust,
  type VerifierUnavailableError,
} from '@portcullis/token-verification';
import {
  canonicalResource,
  isLoopbackHost,
  sameResource,
  validateScopes,
  type NextFunction,
  type NodeMiddleware,
  type ProtectedResource,
} from '@portcullis/protected-resource-metadata';
import { bearerCredentials, token68Error } from './extract.js';
import {
  assertHeadersMatch,
  assertWellFormed,
  compileOperationScopes,
  JsonRpcHttpError,
  operationFromHeaders,
  operationsOf,
  type McpOperation,
  type McpOperationScopes,
  type OperationScopeResolver,
} from './mcp-operations.js';
import { readJsonBody } from './read-body.js';
import { challengeSettings, sendBearerError, sendJsonRpcError, type ChallengeSettings } from './respond.js';
import { scopeRefusal, type ScopeHierarchy } from './scope-check.js';

/** Options of {@link bearerAuth}. */
export interface BearerAuthOptions {
  /** Verifies a token: any `(token, context?) => Promise<AuthInfo>`, e.g. `createJwtVerifier(...)`. */
  readonly verifier: TokenVerifier;
  /**
   * The protected resource from `defineProtectedResource()`: gives the `resource_metadata` URL of
   * every challenge and the audience, from the same object the metadata route serves. Give this,
   * or {@link resourceMetadataUrl}.
   */
  readonly resource?: ProtectedResource;
  /**
   * The `resource_metadata` URL (RFC 9728 §5.1) when no {@link resource} is given. If both are
   * given they must agree, or construction throws.
   */
  readonly resourceMetadataUrl?: URL | string;
  /**
   * The resource identifier tokens must be issued for (RFC 8707). Default: `resource.resource`.
   * When given with `resource` they must agree. A verified token whose `AuthInfo.resource` names
   * another resource is refused with 401 `invalid_token` (S-11, defence in depth).
   */
  readonly audience?: URL | string;
  /** Scopes every request through this mount needs. Default none. */
  readonly requiredScopes?: readonly string[];
  /** `scope` of the 401 challenge (S-06). Default {@link requiredScopes}. Never `offline_access` (S-09). */
  readonly challengeScopes?: readonly string[];
  /** Scopes per MCP operation (JSON-RPC method and tool/resource/prompt name). Default none. */
  readonly operationScopes?: McpOperationScopes;
  /** How broader scopes cover narrower ones (S-21). Default: exact match only. */
  readonly scopeHierarchy?: ScopeHierarchy;
  /** `realm` of the challenges. Default: omitted. */
  readonly realm?: string;
  /** Longest `Authorization` header accepted, in characters. Default 8192. */
  readonly maxAuthorizationLength?: number;
  /** Largest JSON body read to find the MCP operation, in bytes. Default 4 MiB (the MCP SDK's limit). */
  readonly maxBodyBytes?: number;
  /**
   * Called before each 503 with the verifier's `VerifierUnavailableError`, whose message and `cause`
   * say what failed (the JWKS or introspection endpoint, discovery, an issuer mismatch); the client
   * is told only to retry. Default: `console.error`, once a minute per distinct reason. Pass your
   * logger's function, or `() => {}` to stay silent.
   */
  readonly onUnavailable?: (error: VerifierUnavailableError, req: IncomingMessage | undefined) => void;
}

const BEARER_AUTH_OPTIONS: KnownOptions<BearerAuthOptions> = {
  verifier: true,
  resource: true,
  resourceMetadataUrl: true,
  audience: true,
  requiredScopes: true,
  challengeScopes: true,
  operationScopes: true,
  scopeHierarchy: true,
  realm: true,
  maxAuthorizationLength: true,
  maxBodyBytes: true,
  onUnavailable: true,
};

/** What {@link requireScopes} needs to know of the mount that let a request in. */
interface GrantState {
  readonly settings: ChallengeSettings;
  readonly hierarchy: ScopeHierarchy | undefined;
  /** Every scope the request has been required to hold so far. */
  readonly required: readonly string[];
}

// Per request, in the common case (no per-operation scopes) the same object for every request of a
// mount. In a WeakMap, not a property of `req`: any property added to an IncomingMessage after
// `auth` costs V8 a map migration, about 27,000 instructions per request (callgrind, bench/README.md),
// three times a WeakMap entry and more than the whole cache hit.
const grants = new WeakMap<IncomingMessage, GrantState>();
// Only requireScopes() reads `grants`: until one exists, an entry per request (1–2 µs on a loaded
// server, bench/README.md) would buy nothing. A request admitted before the first requireScopes()
// was created and reaching it anyway is refused by it (fails closed), never let through.
let grantsRead = false;
/** Marks token-verification's read-only `AuthInfo.resource` URLs (see its readonly-url.ts). */
const READ_ONLY_URL = Symbol.for('@portcullis/token-verification.readOnlyUrl');
type GrantedRequest = IncomingMessage & { auth?: AuthInfo };

/**
 * Bearer-token middleware for MCP servers (RFC 6750, RFC 9728 §5, OAuth 2.1 §5), typed on
 * `node:http` so it runs under Express 4, Express 5, Connect and a bare `http.createServer`.
 *
 * Extract → verify → scopes (mount, MCP operation) → `req.auth = authInfo` → `next()`. Its own
 * refusals are answered here (see `sendBearerError`); any other error goes to `next(err)`.
 * CORS preflights (`OPTIONS` with `Access-Control-Request-Method` and no bearer token) pass through.
 *
 * @example
 * ```ts
 * app.use('/mcp', bearerAuth({ verifier, resource: mcp, operationScopes: { 'tools/call': { delete_repo: ['repo:admin'] } } }));
 * ```
 * @throws ConfigurationError naming the option at fault.
 */
export function bearerAuth(options: BearerAuthOptions): NodeMiddleware {
  if (options === null || typeof options !== 'object') throw new ConfigurationError('ERR_INVALID_OPTIONS', 'bearerAuth() needs an options object');
  assertKnownOptions(options, BEARER_AUTH_OPTIONS, 'bearerAuth()');
  const { verifier, resource } = options;
  if (typeof verifier !== 'function') {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'verifier must be a function (token) => Promise<AuthInfo>, e.g. createJwtVerifier(...)');
  }
  if (resource !== undefined && (typeof resource !== 'object' || typeof resource.metadataUrl !== 'string')) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'resource must come from defineProtectedResource()');
  }

  const resourceMetadata = resolveMetadataUrl(options);
  const audience = resolveAudience(options, resourceMetadata);
  const trust = verifier[verifierTrust];
  if (trust !== undefined) assertVerifierFits(trust, audience, resource);

  const requiredScopes = options.requiredScopes === undefined ? [] : validateScopes(options.requiredScopes, 'requiredScopes');
  const challengeScopes =
    options.challengeScopes === undefined
      ? validateScopes(requiredScopes.filter((s) => s !== 'offline_access'), 'requiredScopes')
      : validateScopes(options.challengeScopes, 'challengeScopes', { advertised: true });
  const resolveOperation: OperationScopeResolver | undefined =
    options.operationScopes === undefined ? undefined : compileOperationScopes(options.operationScopes);
  const hierarchy = validateHierarchy(options.scopeHierarchy);
  if (options.realm !== undefined && typeof options.realm !== 'string') throw new ConfigurationError('ERR_INVALID_OPTIONS', 'realm must be a string');
  const maxAuthorizationLength = positiveInteger(options.maxAuthorizationLength, 8192, 'maxAuthorizationLength');
  const maxBodyBytes = positiveInteger(options.maxBodyBytes, 4 * 1024 * 1024, 'maxBodyBytes');

  if (options.onUnavailable !== undefined && typeof options.onUnavailable !== 'function') {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'onUnavailable must be a function (error, req) => void');
  }
  const settings = challengeSettings(resourceMetadata, options.realm, challengeScopes, options.onUnavailable);

  // Most tokens name the same resource: remember the last `resource` that matched the audience
  // rather than parse two URLs per request.
  let matchedResource: string | undefined;
  // token-verification shares one read-only URL per resource: the same object as last time is the
  // same resource, without reading it.
  let matchedUrl: URL | undefined;
  const forThisResource = (auth: AuthInfo): boolean => {
    if (audience === undefined) return true;
    // S-11: a verifier that names no resource must at least carry the audience it checked; a token
    // whose audience cannot be seen at all is refused rather than taken on trust.
    if (auth.resource === undefined) return audienceClaimNames(auth.claims?.['aud'], audience);
    if (auth.resource === matchedUrl) return true;
    const href: unknown = auth.resource.href;
    // A custom verifier's `resource` that is not a URL (a string, say) names nothing checkable: the
    // `aud` decides, as when it is absent.
    if (typeof href !== 'string') return audienceClaimNames(auth.claims?.['aud'], audience);
    if (href !== matchedResource) {
      // A verifier shared by several resources names the first of its audiences the token holds;
      // a token issued for several of them (`aud` an array) is this mount's too if `aud` names it.
      if (!sameResource(auth.resource, audience)) return audienceClaimNames(auth.claims?.['aud'], audience);
      matchedResource = href;
    }
    // Only an immutable URL may be recognised by identity next time.
    if ((auth.resource as { [READ_ONLY_URL]?: unknown })[READ_ONLY_URL] === true) matchedUrl = auth.resource;
    return true;
  };

  const granted: GrantState = { settings, hierarchy, required: requiredScopes };
  const grant = (req: GrantedRequest, auth: AuthInfo, state: GrantState, next: NextFunction): void => {
    req.auth = auth;
    if (grantsRead) grants.set(req, state);
    next();
  };

  /** With per-operation scopes: the body is read to find the MCP operations (async). */
  async function withOperationScopes(req: IncomingMessage, auth: AuthInfo, resolve: OperationScopeResolver): Promise<readonly string[]> {
    const required = union(requiredScopes, (await operationsOfRequest(req, maxBodyBytes)).flatMap(resolve));
    const refusal = scopeRefusal(auth.scopes, required, hierarchy);
    if (refusal) throw refusal;
    return required;
  }

  /** After verification: the audience, then the scopes, then in. */
  const admit = (req: IncomingMessage, res: ServerResponse, next: NextFunction, auth: AuthInfo, token: string): void => {
    if (!forThisResource(auth)) return fail(new InvalidTokenError('The access token was issued for another resource'), res, next, settings, token);
    if (resolveOperation) {
      withOperationScopes(req, auth, resolveOperation).then(
        (required) => grant(req, auth, { settings, hierarchy, required }, next),
        (error: unknown) => fail(error, res, next, settings, token),
      );
      return;
    }
    // The mount's scopes need no I/O: decided here, without another promise.
    const refusal = requiredScopes.length > 0 ? scopeRefusal(auth.scopes, requiredScopes, hierarchy) : undefined;
    if (refusal) return fail(refusal, res, next, settings, token);
    grant(req, auth, granted, next);
  };

  const fromMemory = verifier[answerFromMemory];
  // A client's metadata request that reaches this middleware was not answered before it: said once.
  const metadataPath = new URL(resourceMetadata).pathname;
  let warnedAboutMetadata = false;

  return (req: IncomingMessage, res: ServerResponse, next: NextFunction) => {
    let token: string;
    try {
      token = bearerCredentials(req, maxAuthorizationLength);
    } catch (error) {
      // A CORS preflight carries no credentials (Fetch §4.8), so it is looked for only here: a
      // request with a token is authenticated whatever its method, and the common case reads one
      // property of `req` less (each costs a V8 lookup: Express gives every request its own map).
      if (isPreflight(req)) return next();
      if (!warnedAboutMetadata && isRequestFor(req, metadataPath)) {
        warnedAboutMetadata = true;
        console.warn(
          `bearerAuth() was asked for its own resource_metadata (${metadataPath}): clients cannot discover the authorization server. Serve protectedResourceMetadata() before bearerAuth(), at the application root.`,
        );
      }
      return fail(error, res, next, settings);
    }
    // A token in repeated use (what a client sends for the token's whole life; for a JWT from its
    // third use), or a token refused on sight: answered now, without a promise.
    let known: AuthInfo | undefined;
    try {
      known = fromMemory?.(token);
    } catch (error) {
      // A token that is not even token68 is a malformed request (400) before it is a bad token.
      return fail(token68Error(token) ?? error, res, next, settings, token);
    }
    // Known: verified before, so its syntax too. Anything else is checked before it is verified.
    if (known !== undefined) return admit(req, res, next, known, token);
    const malformed = token68Error(token);
    if (malformed) return fail(malformed, res, next, settings);
    verifier(token).then(
      (auth) => {
        // Outside Express's reach here: an error thrown while admitting (a custom verifier's result
        // without `scopes`, say) must still be answered, not left as an unhandled rejection.
        try {
          admit(req, res, next, auth, token);
        } catch (error) {
          fail(error, res, next, settings, token);
        }
      },
      (error: unknown) => fail(error, res, next, settings, token),
    );
  };
}

/**
 * Requires more scopes on one route, after {@link bearerAuth} (RFC 6750 §3.1, S-17…S-19). A 403
 * challenge lists every scope the request needs: the mount's, the operation's and these. Create it
 * at startup: requests admitted before the first one exists carry no record for it (refused, 500).
 *
 * @example app.post('/mcp/admin', requireScopes('mcp:admin'), handler)
 */
export function requireScopes(...scopes: string[]): NodeMiddleware {
  const needed = validateScopes(scopes, 'requireScopes()');
  grantsRead = true;
  return (request, res, next) => {
    const req = request as GrantedRequest;
    const state = grants.get(req);
    if (!state) {
      next(new Error('requireScopes() must run after bearerAuth() on the same request, and be created at startup, before requests arrive'));
      return;
    }
    const required = union(state.required, needed);
    const refusal = req.auth ? scopeRefusal(req.auth.scopes, required, state.hierarchy) : new InsufficientScopeError(required);
    if (refusal) {
      fail(refusal, res, next, state.settings, req.auth?.token);
      return;
    }
    if (required !== state.required) grants.set(req, { ...state, required });
    next();
  };
}

function fail(error: unknown, res: ServerResponse, next: NextFunction, settings: ChallengeSettings, token?: string): void {
  if (res.headersSent) return next(error);
  if (error instanceof TokenVerificationError) return sendBearerError(res, error, settings, token);
  if (error instanceof JsonRpcHttpError) return sendJsonRpcError(res, error);
  next(error);
}

/** Whether the request is for `pathname`, under whatever mount path (Express keeps the original in `originalUrl`). */
function isRequestFor(req: IncomingMessage, pathname: string): boolean {
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)) === pathname;
}

/** A CORS preflight: `OPTIONS` with `Access-Control-Request-Method` (Fetch §3.2.2). */
function isPreflight(req: IncomingMessage): boolean {
  return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
}

/** The MCP operations of this request: body first (checked against the headers, S-29), else headers. */
async function operationsOfRequest(req: IncomingMessage, maxBodyBytes: number): Promise<McpOperation[]> {
  const fromHeaders = operationFromHeaders(req);
  const body = await readJsonBody(req, maxBodyBytes);
  if (!body.available) {
    if (fromHeaders) assertWellFormed(fromHeaders);
    return fromHeaders?.method === undefined ? [] : [{ method: fromHeaders.method, name: fromHeaders.name }];
  }
  const operations = operationsOf(body.value);
  if (fromHeaders) assertHeadersMatch(fromHeaders, body.value, operations);
  return operations;
}

/** Whether an `aud` claim (string or array, RFC 7519 §4.1.3) names `audience`. */
function audienceClaimNames(aud: unknown, audience: string): boolean {
  const values = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  return values.some((value) => typeof value === 'string' && (value === audience || sameResource(value, audience)));
}

function union(a: readonly string[], b: readonly string[]): readonly string[] {
  return b.length === 0 ? a : [...new Set([...a, ...b])];
}

/**
 * A verifier for another audience would refuse every token this mount's clients can bring: a start-up
 * error, not a 401 on every request. One trusting an issuer the resource's metadata does not name
 * (clients get their tokens from those, RFC 9728 §2) usually would too, but not always: Entra ID's v1
 * tokens carry `iss` https://sts.windows.net/{tenant}/ while clients discover its v2.0 issuer. Said
 * once at start-up, then.
 */
function assertVerifierFits(trust: VerifierTrust, audience: string | undefined, resource: ProtectedResource | undefined): void {
  if (audience !== undefined && !trust.audiences.some((accepted) => sameResource(accepted, audience))) {
    throw new ConfigurationError(
      'ERR_RESOURCE_MISMATCH',
      `The verifier accepts tokens for ${trust.audiences.join(', ')}, not for this resource ${audience}: give it audience: '${audience}'`,
    );
  }
  if (resource !== undefined && trust.issuer !== undefined && !resource.authorizationServers.includes(trust.issuer)) {
    console.warn(
      `bearerAuth(): the verifier accepts tokens from ${trust.issuer}, but the resource names ${resource.authorizationServers.join(', ')} as its authorization servers, where clients get their tokens (issuers compare as exact strings). Unless tokens from those carry this iss, every request will be refused.`,
    );
  }
}

function resolveMetadataUrl(options: BearerAuthOptions): string {
  const { resource, resourceMetadataUrl } = options;
  if (resourceMetadataUrl === undefined) {
    if (resource === undefined) {
      throw new ConfigurationError(
        'ERR_NO_RESOURCE_METADATA',
        'Give resource (from defineProtectedResource) or resourceMetadataUrl: every challenge carries resource_metadata (RFC 9728 §5.1, L-04)',
      );
    }
    return resource.metadataUrl;
  }
  const url = parseUrl(resourceMetadataUrl, 'resourceMetadataUrl');
  if (resource !== undefined) {
    const served = new Set(resource.metadataPaths.map((p) => `${resource.resourceUrl.origin}${p}`));
    if (!served.has(url.href)) {
      throw new ConfigurationError(
        'ERR_RESOURCE_MISMATCH',
        `resourceMetadataUrl ${url.href} disagrees with resource: its metadata is served at ${[...served].join(' and ')}; drop resourceMetadataUrl`,
      );
    }
  }
  return url.href;
}

function resolveAudience(options: BearerAuthOptions, metadataUrl: string): string | undefined {
  const { resource, audience } = options;
  if (audience === undefined) return resource?.resource;
  const url = parseUrl(audience, 'audience');
  const canonical = canonicalResource(url);
  if (resource !== undefined && !sameResource(canonical, resource.resource)) {
    throw new ConfigurationError(
      'ERR_RESOURCE_MISMATCH',
      `audience ${canonical} disagrees with resource ${resource.resource}; drop audience, the resource is the audience`,
    );
  }
  if (resource === undefined && options.resourceMetadataUrl !== undefined) {
    // RFC 9728 §3.1: the metadata of `audience` lives at its path-inserted (or root) well-known URL.
    const path = url.pathname === '/' ? '' : url.pathname;
    const expected = [`${url.origin}/.well-known/oauth-protected-resource${path}`, `${url.origin}/.well-known/oauth-protected-resource`];
    if (!expected.includes(metadataUrl)) {
      throw new ConfigurationError(
        'ERR_RESOURCE_MISMATCH',
        `resourceMetadataUrl ${metadataUrl} disagrees with audience ${canonical}: expected ${expected[0]}`,
      );
    }
  }
  return canonical;
}

function parseUrl(value: unknown, option: string): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new ConfigurationError('ERR_INVALID_URL', `${option} must be an absolute URL, got ${JSON.stringify(String(value))}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new ConfigurationError('ERR_INSECURE_URL', `${option} must use https (plain http only for loopback hosts), got ${url.href}`);
  }
  if (url.hash || String(value).includes('#')) throw new ConfigurationError('ERR_INVALID_URL', `${option} must not contain a fragment`);
  return url;
}

function positiveInteger(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', `${option} must be a positive integer`);
  }
  return value;
}

function validateHierarchy(value: unknown): ScopeHierarchy | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') throw new ConfigurationError('ERR_INVALID_OPTIONS', 'scopeHierarchy must be { implies?, separator? }');
  const { implies, separator } = value as ScopeHierarchy;
  if (separator !== undefined && (typeof separator !== 'string' || separator === '')) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'scopeHierarchy.separator must be a non-empty string');
  }
  if (implies !== undefined) {
    if (implies === null || typeof implies !== 'object') throw new ConfigurationError('ERR_INVALID_OPTIONS', 'scopeHierarchy.implies must be an object');
    for (const [scope, narrower] of Object.entries(implies)) validateScopes(narrower, `scopeHierarchy.implies['${scope}']`);
  }
  return value as ScopeHierarchy;
}
