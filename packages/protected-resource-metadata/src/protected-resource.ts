import { assertKnownOptions, ConfigurationError, type KnownOptions } from '@portcullis/token-verification';
import { validateScopes } from './scope-token.js';
import { canonicalResource, parsesWithoutRepair, parseConfiguredUrl, wellKnownPath } from './urls.js';

/** Options of {@link defineProtectedResource}: the fields of an RFC 9728 §2 document. */
export interface ProtectedResourceOptions {
  /**
   * The resource identifier (RFC 9728 §1.2, RFC 8707): the MCP endpoint URL, e.g.
   * `https://mcp.example.com/mcp`. Absolute, `https` unless the host is loopback, no fragment,
   * no query. Scheme and host are lower-cased; `https://a.example/` becomes `https://a.example`.
   */
  readonly resource: URL | string;
  /** Issuer identifiers of the authorization servers (RFC 9728 §2; S-03: at least one). */
  readonly authorizationServers: readonly (URL | string)[];
  /** `scopes_supported`: keep it minimal (S-08); `offline_access` is refused (S-09). Default: omitted. */
  readonly scopesSupported?: readonly string[];
  /** `resource_name`, human-readable. Default: omitted. */
  readonly resourceName?: string;
  /** `resource_documentation`, a URL. Default: omitted. */
  readonly resourceDocumentation?: URL | string;
  /**
   * `bearer_methods_supported`. Only `header` is accepted: the bearer middleware never reads tokens
   * from the body or the query string (OAuth 2.1 §5.1, S-26). Default `["header"]`.
   */
  readonly bearerMethodsSupported?: readonly 'header'[];
  /** Further metadata fields (RFC 9728 §2 allows extensions); may not redefine the ones above. */
  readonly extra?: Readonly<Record<string, unknown>>;
  /**
   * Also serve the document at the root `/.well-known/oauth-protected-resource` when the resource
   * has a path (S-04 b). Default `false`: the root is served only when the resource has no path.
   */
  readonly serveAtRoot?: boolean;
}

/** The RFC 9728 §2 document, as served. */
export interface ProtectedResourceMetadataDocument {
  readonly resource: string;
  readonly authorization_servers: readonly string[];
  readonly bearer_methods_supported: readonly string[];
  readonly scopes_supported?: readonly string[];
  readonly resource_name?: string;
  readonly resource_documentation?: string;
  readonly [field: string]: unknown;
}

/**
 * One validated protected resource. The single source of truth for the metadata route, the
 * `resource_metadata` URL of every bearer challenge, and the audience a verifier checks, so the
 * three cannot drift apart.
 */
export interface ProtectedResource {
  /** The canonical resource identifier (S-05, S-25): use it as the verifier's audience. */
  readonly resource: string;
  /** {@link resource} parsed. */
  readonly resourceUrl: URL;
  /** The path-inserted metadata URL (RFC 9728 §3.1): the `resource_metadata` of every challenge. */
  readonly metadataUrl: string;
  /** Every path the document is served at, exactly (never as a prefix). */
  readonly metadataPaths: readonly string[];
  /** `authorization_servers`. */
  readonly authorizationServers: readonly string[];
  /** `scopes_supported`, when configured. */
  readonly scopesSupported: readonly string[] | undefined;
  /** The frozen document. */
  readonly document: ProtectedResourceMetadataDocument;
}

const STANDARD_FIELDS = new Set([
  'resource',
  'authorization_servers',
  'bearer_methods_supported',
  'scopes_supported',
  'resource_name',
  'resource_documentation',
  'signed_metadata',
]);

const KNOWN_OPTIONS: KnownOptions<ProtectedResourceOptions> = {
  resource: true,
  authorizationServers: true,
  scopesSupported: true,
  resourceName: true,
  resourceDocumentation: true,
  bearerMethodsSupported: true,
  extra: true,
  serveAtRoot: true,
};

/**
 * Validates a protected resource's configuration once, at start-up (RFC 9728 §2, §3).
 *
 * @example
 * ```ts
 * const mcp = defineProtectedResource({
 *   resource: 'https://mcp.example.com/mcp',
 *   authorizationServers: ['https://auth.example.com'],
 *   scopesSupported: ['mcp:tools'],
 * });
 * mcp.metadataUrl; // 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'
 * ```
 * @throws ConfigurationError naming the option at fault.
 */
export function defineProtectedResource(options: ProtectedResourceOptions): ProtectedResource {
  if (options === null || typeof options !== 'object') {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'defineProtectedResource() needs an options object');
  }
  assertKnownOptions(options, KNOWN_OPTIONS, 'defineProtectedResource()');
  const resourceUrl = parseConfiguredUrl(options.resource, 'resource', { noQuery: true });
  const resource = canonicalResource(resourceUrl);

  if (!Array.isArray(options.authorizationServers) || options.authorizationServers.length === 0) {
    throw new ConfigurationError(
      'ERR_NO_AUTHORIZATION_SERVER',
      'authorizationServers must list at least one authorization server issuer (RFC 9728 §2, MCP S-03)',
    );
  }
  const authorizationServers = options.authorizationServers.map((issuer, i) =>
    exactIssuer(issuer, parseConfiguredUrl(issuer, `authorizationServers[${i}]`, { noQuery: true })),
  );

  const scopesSupported =
    options.scopesSupported === undefined ? undefined : validateScopes(options.scopesSupported, 'scopesSupported', { advertised: true });

  const bearerMethods = options.bearerMethodsSupported ?? ['header'];
  if (!Array.isArray(bearerMethods) || bearerMethods.length === 0 || bearerMethods.some((m) => m !== 'header')) {
    throw new ConfigurationError(
      'ERR_INVALID_BEARER_METHODS',
      'bearerMethodsSupported may only be ["header"]: tokens in the query string or body are not accepted (OAuth 2.1 §5.1, S-26)',
    );
  }

  if (options.resourceName !== undefined && (typeof options.resourceName !== 'string' || options.resourceName === '')) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'resourceName must be a non-empty string');
  }
  const documentation =
    options.resourceDocumentation === undefined ? undefined : parseConfiguredUrl(options.resourceDocumentation, 'resourceDocumentation').href;

  const extra = options.extra ?? {};
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'extra must be an object of metadata fields');
  }
  for (const field of Object.keys(extra)) {
    if (STANDARD_FIELDS.has(field)) {
      throw new ConfigurationError(
        'ERR_INVALID_OPTIONS',
        `extra.${field} would redefine a standard field; use the dedicated option${field === 'signed_metadata' ? ' (signedMetadata of the middleware)' : ''}`,
      );
    }
  }

  const document: ProtectedResourceMetadataDocument = deepFreeze({
    ...(jsonCopy(extra, 'extra') as Record<string, unknown>),
    resource,
    authorization_servers: authorizationServers,
    bearer_methods_supported: [...bearerMethods],
    ...(scopesSupported ? { scopes_supported: [...scopesSupported] } : {}),
    ...(options.resourceName !== undefined ? { resource_name: options.resourceName } : {}),
    ...(documentation !== undefined ? { resource_documentation: documentation } : {}),
  });

  const pathInserted = wellKnownPath(resourceUrl);
  const rootPath = '/.well-known/oauth-protected-resource';
  // A path ending in `/` is also served without it: clients (ours, the MCP SDKs) drop a terminating
  // slash before inserting the well-known path, as RFC 8414 §3.1 has them do for issuers.
  const unslashed = pathInserted.endsWith('/') ? pathInserted.slice(0, -1) : undefined;
  const metadataPaths = [pathInserted, ...(unslashed ? [unslashed] : []), ...(options.serveAtRoot && pathInserted !== rootPath ? [rootPath] : [])];

  return Object.freeze({
    resource,
    resourceUrl,
    metadataUrl: `${resourceUrl.origin}${pathInserted}`,
    metadataPaths: Object.freeze(metadataPaths),
    authorizationServers: Object.freeze(authorizationServers),
    scopesSupported,
    document,
  });
}

/**
 * Issuer identifiers are compared as strings, with no normalisation (RFC 8414 §3.3, C-08): a client
 * checks the AS metadata's `issuer` against exactly what we publish, so a configured string is
 * published as written (`https://tenant.example/` keeps its slash). A `URL` object is written as
 * token-verification writes one, so that one object given to both names one issuer: its `href`,
 * without the slash of an empty path (`https://auth.example.com`, as issuers are usually written).
 */
export function exactIssuer(configured: unknown, parsed: URL): string {
  if (typeof configured !== 'string') return canonicalResource(parsed);
  // Published as written, so it must be written as a client will read it: no spaces, tabs,
  // backslashes or dot segments that URL parsing repairs (and a client's comparison would not).
  if (!parsesWithoutRepair(configured)) {
    throw new ConfigurationError('ERR_INVALID_URL', `The issuer ${JSON.stringify(configured)} is not written as a URL (it parses to ${parsed.href}); write it as its authorization server publishes it`);
  }
  return configured;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * A deep copy of `value` that holds only JSON values (the document is served as JSON), or a
 * ConfigurationError naming the first field that is not: a function, symbol, BigInt, `undefined`,
 * a non-finite number or a class instance would be dropped or break serialisation at request time.
 */
function jsonCopy(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Array.isArray(value)) return value.map((item, i) => jsonCopy(item, `${path}[${i}]`));
  if (typeof value === 'object' && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, jsonCopy(item, `${path}.${key}`)]));
  }
  throw new ConfigurationError('ERR_INVALID_OPTIONS', `${path} must be a JSON value (string, finite number, boolean, null, array or plain object)`);
}
