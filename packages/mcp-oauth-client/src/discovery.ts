import type { AuthorizationServer } from 'oauth4webapi';
import { McpOAuthError } from './errors.js';
import { isLoopbackHost, type FetchLike } from './safe-fetch.js';

/** RFC 9728 §2 protected resource metadata, the fields this package reads. */
export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers?: readonly string[];
  readonly scopes_supported?: readonly string[];
  readonly [field: string]: unknown;
}

/** RFC 8414 §2 metadata as oauth4webapi types it, plus the MCP-relevant extensions. */
export type AuthorizationServerMetadata = AuthorizationServer & {
  readonly client_id_metadata_document_supported?: boolean;
};

/** Options of the discovery steps. */
export interface DiscoveryOptions {
  /** The fetch to use: normally {@link createSafeFetch}'s. Required: there is no unguarded default. */
  readonly fetch: FetchLike;
  /** Sent as `MCP-Protocol-Version` on discovery requests (L-01). Default: not sent. */
  readonly protocolVersion?: string;
}

const PRM_WELL_KNOWN = '/.well-known/oauth-protected-resource';

function withoutTrailingSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

/** An absolute `http:`/`https:` URL handed over by a server (challenge, metadata), else `undefined`. */
function parseHttpUrl(value: string): URL | undefined {
  const url = URL.parse(value);
  return url && (url.protocol === 'https:' || url.protocol === 'http:') ? url : undefined;
}

/**
 * Refuses a loopback target named by a server that is not itself on loopback. `allowInsecureLoopback`
 * is for local development; it must not let a public server steer the client at services on this
 * machine (C-44, C-45, SBP §SSRF).
 */
function assertNoLoopbackPivot(target: URL, serverUrl: URL, what: string): void {
  if (isLoopbackHost(target) && !isLoopbackHost(serverUrl)) {
    throw new McpOAuthError('ssrf_blocked', `Refusing ${what} on a loopback host (${target.origin}) named by the non-loopback ${serverUrl.origin}`);
  }
}

/**
 * The URLs to try for the protected resource metadata of `serverUrl`, in order (C-02, RFC 9728 §3.1):
 * the challenge's `resource_metadata` when given, then path-inserted, then root. A `resource_metadata`
 * that is not an absolute http(s) URL is ignored, like any malformed challenge: the well-known URLs
 * remain (C-03).
 */
export function protectedResourceMetadataUrls(serverUrl: URL, resourceMetadata?: string): URL[] {
  const urls: URL[] = [];
  const fromChallenge = resourceMetadata === undefined ? undefined : parseHttpUrl(resourceMetadata);
  if (fromChallenge) {
    assertNoLoopbackPivot(fromChallenge, serverUrl, 'resource_metadata');
    urls.push(fromChallenge);
  }
  const path = withoutTrailingSlash(serverUrl.pathname);
  if (path !== '') urls.push(new URL(`${PRM_WELL_KNOWN}${path}`, serverUrl.origin));
  urls.push(new URL(PRM_WELL_KNOWN, serverUrl.origin));
  return urls.filter((url, i) => urls.findIndex((u) => u.href === url.href) === i);
}

/**
 * True when the PRM `resource` names the server being accessed (C-04, RFC 9728 §3.3): same origin, and
 * its path equal to the server URL's path or a whole-segment prefix of it (a root PRM documents the
 * origin, `https://mcp.example` for `https://mcp.example/mcp`). Never a string prefix: `/mc` does not cover `/mcp`.
 */
export function resourceMatchesServer(resource: string, serverUrl: URL): boolean {
  let parsed: URL;
  try {
    parsed = new URL(resource);
  } catch {
    return false;
  }
  if (parsed.hash || parsed.origin !== serverUrl.origin) return false;
  const resourcePath = withoutTrailingSlash(parsed.pathname);
  const serverPath = withoutTrailingSlash(serverUrl.pathname);
  return serverPath === resourcePath || serverPath.startsWith(`${resourcePath}/`);
}

/** Validates a PRM document (pure): a JSON object with a string `resource` that names `serverUrl` (C-04). */
export function validateProtectedResourceMetadata(serverUrl: URL, json: unknown): ProtectedResourceMetadata {
  if (typeof json !== 'object' || json === null || Array.isArray(json) || typeof (json as { resource?: unknown }).resource !== 'string') {
    throw new McpOAuthError('invalid_metadata', 'Protected resource metadata is not an object with a string "resource"');
  }
  const prm = json as ProtectedResourceMetadata;
  if (!resourceMatchesServer(prm.resource, serverUrl)) {
    throw new McpOAuthError('resource_mismatch', `Protected resource metadata names ${prm.resource}, not the server ${serverUrl.origin}${serverUrl.pathname}`);
  }
  if (prm.authorization_servers !== undefined && (!Array.isArray(prm.authorization_servers) || !prm.authorization_servers.every((s) => typeof s === 'string'))) {
    throw new McpOAuthError('invalid_metadata', 'Protected resource metadata "authorization_servers" is not an array of strings');
  }
  if (prm.scopes_supported !== undefined && (!Array.isArray(prm.scopes_supported) || !prm.scopes_supported.every((s) => typeof s === 'string'))) {
    throw new McpOAuthError('invalid_metadata', 'Protected resource metadata "scopes_supported" is not an array of strings');
  }
  return prm;
}

async function getJson(url: URL, options: DiscoveryOptions): Promise<{ status: number; json?: unknown }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.protocolVersion) headers['mcp-protocol-version'] = options.protocolVersion;
  const response = await options.fetch(url, { headers });
  if (response.status !== 200) {
    await response.body?.cancel();
    return { status: response.status };
  }
  try {
    return { status: 200, json: await response.json() };
  } catch (cause) {
    throw new McpOAuthError('invalid_metadata', `Metadata at ${url.href} is not JSON`, { cause });
  }
}

/**
 * Fetches the protected resource metadata of `serverUrl` (C-01, C-02, C-04): each URL of
 * {@link protectedResourceMetadataUrls} in turn until one answers 200, then validates it. Returns
 * undefined when none does (a 2025-03-26 server: see {@link legacyIssuer}). A mismatched `resource` throws.
 */
export async function discoverProtectedResource(
  serverUrl: URL,
  options: DiscoveryOptions & { readonly resourceMetadata?: string },
): Promise<ProtectedResourceMetadata | undefined> {
  for (const url of protectedResourceMetadataUrls(serverUrl, options.resourceMetadata)) {
    const { status, json } = await getJson(url, options);
    if (status === 200) return validateProtectedResourceMetadata(serverUrl, json);
  }
  return undefined;
}

/**
 * The AS metadata URLs for an issuer, in the MCP order (C-07). Hand-written: neither openid-client nor
 * oauth4webapi tries several locations. With a path `/t1`: RFC 8414 path-inserted, OIDC path-inserted,
 * OIDC path-appended — no root fallback. Without a path: RFC 8414, then OIDC.
 */
export function authorizationServerMetadataUrls(issuer: string): URL[] {
  const url = parseHttpUrl(issuer);
  if (!url) throw new McpOAuthError('invalid_metadata', 'An authorization server issuer is not an absolute http(s) URL');
  const path = withoutTrailingSlash(url.pathname);
  if (path === '') {
    return [new URL('/.well-known/oauth-authorization-server', url.origin), new URL('/.well-known/openid-configuration', url.origin)];
  }
  return [
    new URL(`/.well-known/oauth-authorization-server${path}`, url.origin),
    new URL(`/.well-known/openid-configuration${path}`, url.origin),
    new URL(`${path}/.well-known/openid-configuration`, url.origin),
  ];
}

/**
 * Validates AS metadata (pure): a JSON object whose `issuer` is identical — plain string comparison,
 * no normalization — to the issuer the URL was built from (C-08, RFC 8414 §3.3).
 */
export function validateAuthorizationServerMetadata(issuer: string, json: unknown): AuthorizationServerMetadata {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new McpOAuthError('invalid_metadata', 'Authorization server metadata is not a JSON object');
  }
  const metadata = json as AuthorizationServerMetadata;
  if (metadata.issuer !== issuer) {
    throw new McpOAuthError('issuer_mismatch', `Authorization server metadata names issuer ${String(metadata.issuer)}, expected exactly ${issuer}`);
  }
  // Every endpoint the client may call or open: an absolute URL, https unless the issuer itself is
  // (loopback, development) http (C-40), and a remote AS cannot point it at this machine.
  const issuerUrl = URL.parse(issuer);
  for (const field of ENDPOINT_FIELDS) {
    const value = (metadata as Record<string, unknown>)[field];
    if (value === undefined) continue;
    const endpoint = typeof value === 'string' ? URL.parse(value) : null;
    if (endpoint !== null && issuerUrl) assertNoLoopbackPivot(endpoint, issuerUrl, `the ${field}`);
    if (endpoint === null || (endpoint.protocol !== 'https:' && !(endpoint.protocol === 'http:' && issuerUrl?.protocol === 'http:'))) {
      throw new McpOAuthError('invalid_metadata', `Authorization server metadata "${field}" is not an absolute ${issuerUrl?.protocol === 'http:' ? 'http(s)' : 'https'} URL`);
    }
  }
  // The lists the client reads: arrays of strings, or absent.
  for (const field of LIST_FIELDS) {
    const value = (metadata as Record<string, unknown>)[field];
    if (value !== undefined && !(Array.isArray(value) && value.every((item) => typeof item === 'string'))) {
      throw new McpOAuthError('invalid_metadata', `Authorization server metadata "${field}" is not an array of strings`);
    }
  }
  return metadata;
}

const LIST_FIELDS = [
  'scopes_supported',
  'response_types_supported',
  'grant_types_supported',
  'code_challenge_methods_supported',
  'token_endpoint_auth_methods_supported',
  'token_endpoint_auth_signing_alg_values_supported',
  'dpop_signing_alg_values_supported',
] as const;

const ENDPOINT_FIELDS = [
  'authorization_endpoint',
  'token_endpoint',
  'registration_endpoint',
  'jwks_uri',
  'introspection_endpoint',
  'revocation_endpoint',
  'pushed_authorization_request_endpoint',
  'device_authorization_endpoint',
  'userinfo_endpoint',
] as const;

/** Fetches and validates the AS metadata of `issuer` from the first URL of the MCP order that answers 200 (C-06…C-08). */
export async function discoverAuthorizationServer(issuer: string, options: DiscoveryOptions): Promise<AuthorizationServerMetadata> {
  for (const url of authorizationServerMetadataUrls(issuer)) {
    const { status, json } = await getJson(url, options);
    if (status === 200) return validateAuthorizationServerMetadata(issuer, json);
  }
  throw new McpOAuthError('metadata_not_found', `No authorization server metadata for ${issuer}`);
}

/** The 2025-03-26 "authorization base URL": the MCP server's origin, path discarded (L-01). */
export function legacyIssuer(serverUrl: URL): string {
  return serverUrl.origin;
}

/**
 * AS metadata for a 2025-03-26 server (L-01, L-02): `<origin>/.well-known/oauth-authorization-server`,
 * else the default endpoints `/authorize`, `/token`, `/register` at the origin. The 2025-03-26
 * revision required PKCE S256 of every AS, so the synthesized metadata advertises it.
 */
export async function discoverLegacyAuthorizationServer(serverUrl: URL, options: DiscoveryOptions): Promise<AuthorizationServerMetadata> {
  const issuer = legacyIssuer(serverUrl);
  const { status, json } = await getJson(new URL('/.well-known/oauth-authorization-server', issuer), options);
  if (status === 200) return validateAuthorizationServerMetadata(issuer, json);
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    code_challenge_methods_supported: ['S256'],
    response_types_supported: ['code'],
  };
}

/** Everything discovery found for one MCP server. */
export interface DiscoveryResult {
  /** The RFC 8707 resource indicator to send: the PRM `resource` verbatim, else the server URL (C-25). */
  readonly resource: string;
  /** The PRM document; undefined for a 2025-03-26 server. */
  readonly resourceMetadata: ProtectedResourceMetadata | undefined;
  readonly authorizationServer: AuthorizationServerMetadata;
}

/** Options of {@link discover}. */
export interface DiscoverOptions extends DiscoveryOptions {
  /** `resource_metadata` from the 401 challenge, when there was one. */
  readonly resourceMetadata?: string;
  /**
   * Picks one of the PRM's `authorization_servers` (RFC 9728 §7.6, C-05). Default: the first.
   */
  readonly selectAuthorizationServer?: (servers: readonly string[]) => string;
}

/** The canonical server URI (C-26): no fragment, no query. Sent as `resource` when there is no PRM. */
export function canonicalServerUrl(serverUrl: URL | string): string {
  const url = new URL(serverUrl);
  url.hash = '';
  url.search = '';
  return url.pathname === '/' ? url.origin : url.href;
}

/** PRM, then AS metadata, falling back to the 2025-03-26 rules when the server publishes no PRM. */
export async function discover(serverUrl: URL, options: DiscoverOptions): Promise<DiscoveryResult> {
  const prm = await discoverProtectedResource(serverUrl, options);
  if (prm === undefined) {
    // A server whose 401 names its metadata is not a 2025-03-26 server: guessing endpoints at its
    // origin would only end in a confusing registration or token error (C-01, C-02). A value that is
    // not an http(s) URL names nothing and is ignored, as everywhere else (C-03).
    const named = options.resourceMetadata === undefined ? undefined : parseHttpUrl(options.resourceMetadata);
    if (named !== undefined) {
      throw new McpOAuthError(
        'metadata_not_found',
        `The server's 401 names protected resource metadata at ${named.href}, but neither it nor the well-known URLs of ${serverUrl.origin} answered 200`,
      );
    }
    return { resource: canonicalServerUrl(serverUrl), resourceMetadata: undefined, authorizationServer: await discoverLegacyAuthorizationServer(serverUrl, options) };
  }
  const servers = prm.authorization_servers ?? [];
  if (servers.length === 0) throw new McpOAuthError('invalid_metadata', `Protected resource metadata for ${prm.resource} lists no authorization server`);
  const issuer = options.selectAuthorizationServer ? options.selectAuthorizationServer(servers) : servers[0]!;
  const issuerUrl = typeof issuer === 'string' ? parseHttpUrl(issuer) : undefined;
  if (!issuerUrl) throw new McpOAuthError('invalid_metadata', `Protected resource metadata for ${prm.resource} names an authorization server that is not an absolute http(s) URL`);
  assertNoLoopbackPivot(issuerUrl, serverUrl, 'an authorization server');
  return { resource: prm.resource, resourceMetadata: prm, authorizationServer: await discoverAuthorizationServer(issuer, options) };
}
