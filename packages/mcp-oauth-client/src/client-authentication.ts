import * as oauth from 'oauth4webapi';
import { McpOAuthError } from './errors.js';
import type { CryptoKey } from 'jose';
import type { AuthorizationServerMetadata } from './discovery.js';
import type { FetchLike } from './safe-fetch.js';

/** A private key for `private_key_jwt` (RFC 7523 §2.2): a CryptoKey, with an optional `kid`. */
export interface ClientPrivateKey {
  readonly key: CryptoKey;
  readonly kid?: string;
}

/** The client as the token endpoint sees it. */
export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret?: string;
  /** `none`, `client_secret_basic`, `client_secret_post` or `private_key_jwt`. */
  readonly tokenEndpointAuthMethod: string;
  readonly privateKey?: ClientPrivateKey;
}

/**
 * Picks the token endpoint auth method for credentials the AS did not assign one to (C-42): a private key
 * → `private_key_jwt`; a secret → `client_secret_basic` unless the AS lists only `client_secret_post`
 * (RFC 8414 §2: the default list is `client_secret_basic`); neither → `none`.
 */
export function selectTokenEndpointAuthMethod(as: AuthorizationServerMetadata, has: { secret: boolean; privateKey: boolean }): string {
  const supported = as.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  if (has.privateKey) return 'private_key_jwt';
  if (!has.secret) return 'none';
  if (supported.includes('client_secret_basic')) return 'client_secret_basic';
  if (supported.includes('client_secret_post')) return 'client_secret_post';
  return 'client_secret_basic';
}

/** WHATWG `application/x-www-form-urlencoded` serialization of one value (keeps `A-Za-z0-9*-._`, space → `+`). */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * `client_secret_basic` (RFC 6749 §2.3.1): id and secret form-encoded, joined by `:`, base64. Hand-written
 * because oauth4webapi's `ClientSecretBasic` also percent-encodes `-`, `.`, `_`, `~`…, which is still
 * decodable but breaks servers that compare the Basic credentials without form-decoding them.
 */
export function clientSecretBasic(clientSecret: string): oauth.ClientAuth {
  return (_as, client, _body, headers) => {
    headers.set('authorization', `Basic ${Buffer.from(`${formEncode(client.client_id)}:${formEncode(clientSecret)}`).toString('base64')}`);
  };
}

/** The oauth4webapi client-authentication for these credentials. */
export function clientAuthentication(client: ClientCredentials): oauth.ClientAuth {
  switch (client.tokenEndpointAuthMethod) {
    case 'none':
      return oauth.None();
    case 'client_secret_basic':
    case 'client_secret_post': {
      if (!client.clientSecret) throw new McpOAuthError('invalid_options', `Client ${client.clientId} uses ${client.tokenEndpointAuthMethod} but has no secret`);
      return client.tokenEndpointAuthMethod === 'client_secret_basic' ? clientSecretBasic(client.clientSecret) : oauth.ClientSecretPost(client.clientSecret);
    }
    case 'private_key_jwt': {
      if (!client.privateKey) throw new McpOAuthError('invalid_options', `Client ${client.clientId} uses private_key_jwt but has no private key`);
      return oauth.PrivateKeyJwt(client.privateKey.kid === undefined ? client.privateKey.key : { key: client.privateKey.key, kid: client.privateKey.kid });
    }
    default:
      throw new McpOAuthError('invalid_options', `Unsupported token endpoint auth method ${client.tokenEndpointAuthMethod}`);
  }
}

/** The oauth4webapi request options every call here uses: our guarded fetch, and http allowed only where the guard allows it. */
export function requestOptions(fetch: FetchLike, allowInsecureLoopback: boolean | undefined): { [oauth.customFetch]: typeof globalThis.fetch; [oauth.allowInsecureRequests]: boolean } {
  return {
    [oauth.customFetch]: fetch as typeof globalThis.fetch,
    // The SSRF guard in `fetch` refuses non-loopback http on its own; this only lets oauth4webapi hand loopback http to it.
    [oauth.allowInsecureRequests]: allowInsecureLoopback === true,
  };
}

/** The oauth4webapi `Client` object. */
export function oauthClient(client: ClientCredentials): oauth.Client {
  return { client_id: client.clientId, token_endpoint_auth_method: client.tokenEndpointAuthMethod };
}
