import * as oauth from 'oauth4webapi';
import { requestOptions, selectTokenEndpointAuthMethod, type ClientCredentials, type ClientPrivateKey } from './client-authentication.js';
import type { AuthorizationServerMetadata } from './discovery.js';
import { McpOAuthError } from './errors.js';
import type { Logger } from './logger.js';
import { isLoopbackHost, type FetchLike } from './safe-fetch.js';
import { asStoredClient, clientKey, type StoredClient, type TokenStore } from './token-store.js';

/** Credentials registered out of band (C-14). */
export interface PreRegisteredClient {
  readonly clientId: string;
  readonly clientSecret?: string;
  /** For `private_key_jwt` (RFC 7523 §2.2, X-02). */
  readonly privateKey?: ClientPrivateKey;
  /**
   * The issuer these credentials were issued by (C-18): they are then used with that AS only.
   * Required with `clientSecret` or `privateKey` (`invalid_options` otherwise): the AS is named by the
   * MCP server's metadata, so a hostile server could otherwise have the secret sent to an AS of its
   * choosing, with no user in the loop under `client_credentials`. A public client id without it is
   * bound to the first AS it is used with — the binding is kept in the {@link TokenStore} per account
   * and client id — and refused (`client_issuer_mismatch`) for any other AS afterwards.
   */
  readonly issuer?: string;
  /** Default: chosen from the AS metadata by {@link selectTokenEndpointAuthMethod}. */
  readonly tokenEndpointAuthMethod?: string;
}

/** RFC 7591 §2 client metadata sent in dynamic registration (and published in a CIMD document). */
export interface ClientMetadata {
  readonly client_name: string;
  readonly redirect_uris: readonly string[];
  /**
   * C-16: `native` for CLI/desktop clients with loopback redirect URIs, `web` for remote web apps.
   * Default: `native` when every redirect URI is loopback (RFC 8252 §7.3), else `web`.
   */
  readonly application_type?: 'native' | 'web';
  /** Default `['authorization_code', 'refresh_token']` (C-39: list `refresh_token`). */
  readonly grant_types?: readonly string[];
  /** Default: `none` when the AS allows it (a public client), else a client-secret method. */
  readonly token_endpoint_auth_method?: string;
  readonly [field: string]: unknown;
}

/** Options of {@link resolveClient}: the registration priority of C-09. */
export interface RegistrationOptions {
  /** 1. Pre-registered credentials, one per issuer. */
  readonly preRegistered?: readonly PreRegisteredClient[];
  /** 2. The HTTPS URL of this client's Client ID Metadata Document (C-10, C-11), used when the AS advertises support. */
  readonly clientMetadataUrl?: string;
  /** Private key used with a CIMD client id, when its document publishes a JWKS (C-12). */
  readonly clientMetadataPrivateKey?: ClientPrivateKey;
  /** 3. Metadata for RFC 7591 dynamic registration; without it there is no dynamic registration. */
  readonly clientMetadata?: ClientMetadata;
  /** Where dynamically registered credentials are kept, keyed by issuer. */
  readonly store: TokenStore;
  readonly fetch: FetchLike;
  /** See {@link SafeFetchOptions.allowInsecureLoopback}. Default false. */
  readonly allowInsecureLoopback?: boolean;
  /** The store partition the binding of unbound pre-registered credentials is kept in (C-18). Default `default`. */
  readonly account?: string;
  /** Told once when unbound pre-registered credentials are bound to an issuer. */
  readonly logger?: Logger;
}

/**
 * Refuses confidential pre-registered credentials (a secret or a private key) that name no issuer
 * (C-18): trust on first use would send them to whichever AS the first MCP server names.
 */
export function assertPreRegisteredClients(clients: readonly PreRegisteredClient[]): void {
  for (const client of clients) {
    if (client.issuer === undefined && (client.clientSecret !== undefined || client.privateKey !== undefined)) {
      throw new McpOAuthError(
        'invalid_options',
        `The pre-registered client ${client.clientId} has a ${client.clientSecret !== undefined ? 'secret' : 'private key'} but no issuer: set preRegistered[].issuer to the authorization server that issued it (C-18), so that no MCP server can have it sent elsewhere`,
      );
    }
  }
}

/** The store key of the issuer an unbound pre-registered client was bound to on first use (C-18). */
export function preRegisteredBindingKey(account: string, clientId: string): string {
  return `pre-registered-binding ${JSON.stringify([account, clientId])}`;
}

/**
 * Binds an unbound public pre-registered client to the first issuer it is used with (C-18): true when
 * they are (now) bound to `issuer`, false when they are bound to another issuer and must not be sent.
 */
async function bindUnbound(client: PreRegisteredClient, issuer: string, options: RegistrationOptions): Promise<boolean> {
  const key = preRegisteredBindingKey(options.account ?? 'default', client.clientId);
  const existing = await options.store.get(key);
  const boundTo = typeof existing?.['issuer'] === 'string' ? existing['issuer'] : undefined;
  if (boundTo !== undefined) return boundTo === issuer;
  await options.store.set(key, { issuer, clientId: client.clientId });
  // Read back: a concurrent first use for another issuer may have won the race.
  const after = await options.store.get(key);
  if (after?.['issuer'] !== issuer) return false;
  options.logger?.warn(
    `Pre-registered client ${client.clientId} has no issuer; it is now bound to ${issuer} and will be refused for any other authorization server. Set preRegistered[].issuer — unbound client ids are discouraged (C-18)`,
  );
  return true;
}

/** A client ready for the token endpoint. */
export type ResolvedClient = ClientCredentials & { readonly source: StoredClient['source']; readonly issuer: string };

/** Refuses a CIMD URL that is not https with a path (C-11). */
export function assertClientMetadataUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new McpOAuthError('invalid_options', `clientMetadataUrl is not a URL`, { cause });
  }
  if (parsed.protocol !== 'https:' || parsed.pathname === '/' || parsed.hash) {
    throw new McpOAuthError('invalid_options', 'clientMetadataUrl must be an https URL with a path and no fragment (CIMD)');
  }
}

/** The RFC 7591 registration request body (pure): defaults for `application_type` (C-16), grant types and auth method. */
export function buildRegistrationRequest(as: AuthorizationServerMetadata, metadata: ClientMetadata): Record<string, unknown> {
  const allLoopback = metadata.redirect_uris.length > 0 && metadata.redirect_uris.every((u) => {
    try {
      return isLoopbackHost(new URL(u));
    } catch {
      return false;
    }
  });
  const supported = as.token_endpoint_auth_methods_supported;
  const method = metadata.token_endpoint_auth_method ?? (supported === undefined || supported.includes('none') ? 'none' : selectTokenEndpointAuthMethod(as, { secret: true, privateKey: false }));
  return {
    ...metadata,
    redirect_uris: [...metadata.redirect_uris],
    application_type: metadata.application_type ?? (allLoopback ? 'native' : 'web'),
    grant_types: [...(metadata.grant_types ?? ['authorization_code', 'refresh_token'])],
    response_types: ['code'],
    token_endpoint_auth_method: method,
  };
}

/** Registers with the AS's `registration_endpoint` (RFC 7591 §3). Refusals are `registration_failed` (C-17). */
export async function registerClient(
  as: AuthorizationServerMetadata,
  metadata: ClientMetadata,
  options: Pick<RegistrationOptions, 'fetch' | 'allowInsecureLoopback'>,
): Promise<StoredClient> {
  if (!as.registration_endpoint) throw new McpOAuthError('registration_unavailable', `${as.issuer} has no registration endpoint`);
  const body = buildRegistrationRequest(as, metadata);
  const response = await oauth.dynamicClientRegistrationRequest(as, body as Partial<oauth.Client>, requestOptions(options.fetch, options.allowInsecureLoopback));
  let json: Record<string, unknown> | undefined;
  try {
    json = (await response.json()) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  // RFC 7591 says 201; some servers answer 200. Either way the body must carry a client_id.
  if ((response.status !== 201 && response.status !== 200) || typeof json?.['client_id'] !== 'string') {
    const oauthError = typeof json?.['error'] === 'string' ? json['error'] : undefined;
    const description = typeof json?.['error_description'] === 'string' ? `: ${json['error_description']}` : '';
    throw new McpOAuthError('registration_failed', `Dynamic registration at ${as.issuer} failed (HTTP ${response.status}${oauthError ? ` ${oauthError}` : ''}${description})`, {
      status: response.status,
      ...(oauthError !== undefined && { oauthError }),
    });
  }
  const clientSecret = typeof json['client_secret'] === 'string' ? json['client_secret'] : undefined;
  const assigned = typeof json['token_endpoint_auth_method'] === 'string' ? json['token_endpoint_auth_method'] : undefined;
  const requested = body['token_endpoint_auth_method'] as string;
  // The AS's answer wins; a secret issued to a client that asked for `none` is not used to authenticate.
  const tokenEndpointAuthMethod = assigned ?? (clientSecret && requested === 'none' ? 'none' : requested);
  return {
    issuer: as.issuer,
    clientId: json['client_id'],
    ...(clientSecret !== undefined && { clientSecret }),
    tokenEndpointAuthMethod,
    source: 'dynamic',
    redirectUris: metadata.redirect_uris,
  };
}

/**
 * Finds or makes the client for this AS, in the C-09 order: pre-registered (bound to this issuer, or
 * a public client id without one: bound to the first issuer used, C-18) → CIMD when `client_id_metadata_document_supported` → credentials this store already holds
 * for this issuer → RFC 7591 → `registration_unavailable`. Credentials are never reused across issuers (C-18).
 */
export async function resolveClient(as: AuthorizationServerMetadata, options: RegistrationOptions): Promise<ResolvedClient> {
  const pre = options.preRegistered ?? [];
  assertPreRegisteredClients(pre);
  let bound = pre.find((c) => c.issuer === as.issuer);
  let refusedUnbound: PreRegisteredClient | undefined;
  if (!bound) {
    for (const candidate of pre) {
      if (candidate.issuer !== undefined) continue;
      if (await bindUnbound(candidate, as.issuer, options)) {
        bound = candidate;
        break;
      }
      refusedUnbound ??= candidate;
    }
  }
  if (bound) {
    return {
      issuer: as.issuer,
      source: 'pre-registered',
      clientId: bound.clientId,
      ...(bound.clientSecret !== undefined && { clientSecret: bound.clientSecret }),
      ...(bound.privateKey !== undefined && { privateKey: bound.privateKey }),
      tokenEndpointAuthMethod: bound.tokenEndpointAuthMethod ?? selectTokenEndpointAuthMethod(as, { secret: bound.clientSecret !== undefined, privateKey: bound.privateKey !== undefined }),
    };
  }
  if (options.clientMetadataUrl && as.client_id_metadata_document_supported === true) {
    return {
      issuer: as.issuer,
      source: 'cimd',
      clientId: options.clientMetadataUrl,
      tokenEndpointAuthMethod: options.clientMetadataPrivateKey ? 'private_key_jwt' : 'none',
      ...(options.clientMetadataPrivateKey !== undefined && { privateKey: options.clientMetadataPrivateKey }),
    };
  }
  const stored = asStoredClient(await options.store.get(clientKey(as.issuer)));
  const wantedRedirects = JSON.stringify(options.clientMetadata?.redirect_uris ?? []);
  if (stored && stored.issuer === as.issuer && (!options.clientMetadata || JSON.stringify(stored.redirectUris ?? []) === wantedRedirects)) {
    return { ...stored, issuer: as.issuer };
  }
  if (options.clientMetadata && as.registration_endpoint) {
    const registered = await registerClient(as, options.clientMetadata, options);
    await options.store.set(clientKey(as.issuer), { ...registered });
    return registered;
  }
  if (refusedUnbound) {
    throw new McpOAuthError(
      'client_issuer_mismatch',
      `The pre-registered client ${refusedUnbound.clientId} was bound to another authorization server on first use; refusing to send it to ${as.issuer}, which offers no other registration`,
    );
  }
  if (pre.length > 0) {
    throw new McpOAuthError('client_issuer_mismatch', `The pre-registered client credentials belong to another authorization server than ${as.issuer}, and it offers no other registration`);
  }
  throw new McpOAuthError('registration_unavailable', `No way to obtain a client at ${as.issuer}: no pre-registered credentials, no Client ID Metadata Document support, no registration endpoint`);
}
