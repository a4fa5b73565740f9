import type { CryptoKey, JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { assertKnownOptions, ConfigurationError, type KnownOptions } from '@portcullis/token-verification';
import { UpstreamTokenError } from './errors.js';
import { privateKeyJwt } from './private-key-jwt.js';
import type { TokenResponse } from './token-response.js';

/**
 * How this server authenticates to the token endpoint with its own credentials (OAuth 2.1 §2.4).
 * Never the caller's token: these identify the MCP server itself.
 */
export type ClientAuthentication =
  | { readonly method: 'client_secret_basic'; readonly clientId: string; readonly clientSecret: string }
  | { readonly method: 'client_secret_post'; readonly clientId: string; readonly clientSecret: string }
  /** RFC 7523 §2.2: a JWT signed with this key; the AS knows the public half (`jwks` or `jwks_uri`). */
  | { readonly method: 'private_key_jwt'; readonly clientId: string; readonly privateKey: CryptoKey | JWK; readonly kid?: string };

/** Where the token endpoint is: discovered from the issuer (RFC 8414), or given. */
export type TokenEndpointLocation =
  | { readonly issuer: URL | string; readonly tokenEndpoint?: never }
  /**
   * The token endpoint, without discovery. `issuer` (default: the endpoint's origin) is the
   * `aud` of `private_key_jwt` assertions.
   */
  | { readonly tokenEndpoint: URL | string; readonly issuer?: URL | string };

/** Options shared by {@link createTokenExchanger} and {@link createClientCredentialsSource}. */
export type TokenEndpointOptions = TokenEndpointLocation & {
  /** This server's own client credentials. */
  readonly client: ClientAuthentication;
  /** The fetch for the AS. Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /** Timeout per request to the AS, in ms. Default 10 000. */
  readonly timeout?: number;
  /** INSECURE, development and test only: allow an `http:` issuer or token endpoint on any host (loopback hosts need no flag). Default false. */
  readonly allowInsecureHttp?: boolean;
};

/** A token endpoint call, with discovery done once and client authentication prepared. */
export interface TokenEndpoint {
  /** Sends a grant and returns the processed response; typed {@link UpstreamTokenError} on failure. */
  request(grantType: string, parameters: URLSearchParams): Promise<TokenResponse>;
  /** For messages: the token endpoint URL (or the issuer before discovery). */
  readonly label: string;
}

function parseUrl(value: URL | string, option: string, allowInsecureHttp: boolean): URL {
  // The value is never quoted: it may hold a password.
  const url = URL.parse(String(value));
  if (!url) throw new ConfigurationError('ERR_INVALID_URL', `${option} must be an absolute URL`);
  // A user:password@ would reach every message and cause that names the endpoint; credentials go in `client`.
  if (url.username !== '' || url.password !== '') throw new ConfigurationError('ERR_INVALID_URL', `${option} must not contain user information (credentials go in client)`);
  if (!isAllowedProtocol(url, allowInsecureHttp)) {
    throw new ConfigurationError('ERR_INSECURE_URL', `${option} must be https (http is accepted for loopback hosts, or anywhere with allowInsecureHttp: true, for local development only)`);
  }
  return url;
}

/** https; http on a loopback host (development on this machine), or anywhere with `allowInsecureHttp`: the rule of token-verification. */
function isAllowedProtocol(url: URL, allowInsecureHttp: boolean): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && (allowInsecureHttp || url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(url.hostname));
}

/** The options every factory over a token endpoint takes (see {@link TokenEndpointOptions}). */
export const TOKEN_ENDPOINT_OPTIONS: KnownOptions<TokenEndpointOptions> = {
  issuer: true,
  tokenEndpoint: true,
  client: true,
  fetch: true,
  timeout: true,
  allowInsecureHttp: true,
};
const CLIENT_OPTIONS: KnownOptions<ClientAuthentication> = { method: true, clientId: true, clientSecret: true, privateKey: true, kid: true };

/** Validates the options once and returns the token endpoint caller. */
export function createTokenEndpoint(options: TokenEndpointOptions, factory: string): TokenEndpoint {
  const allowInsecureHttp = options.allowInsecureHttp === true;
  const timeout = options.timeout ?? 10_000;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (!Number.isFinite(timeout) || timeout <= 0) throw new ConfigurationError('ERR_INVALID_OPTIONS', `${factory}: timeout must be a positive number of ms`);
  const client = options.client as ClientAuthentication | undefined;
  assertKnownOptions(client, CLIENT_OPTIONS, `${factory} client`);
  if (!client || typeof client.clientId !== 'string' || client.clientId === '') {
    throw new ConfigurationError('ERR_MISSING_OPTION', `${factory}: client.clientId is required (this server's own client, never the caller's)`);
  }
  let auth: () => Promise<oauth.ClientAuth>;
  switch (client.method) {
    case 'client_secret_basic':
    case 'client_secret_post': {
      if (typeof client.clientSecret !== 'string' || client.clientSecret === '') throw new ConfigurationError('ERR_MISSING_OPTION', `${factory}: client.clientSecret is required for ${client.method}`);
      const method = client.method === 'client_secret_basic' ? oauth.ClientSecretBasic(client.clientSecret) : oauth.ClientSecretPost(client.clientSecret);
      auth = async () => method;
      break;
    }
    case 'private_key_jwt': {
      const { privateKey, kid } = client;
      if (!privateKey) throw new ConfigurationError('ERR_MISSING_OPTION', `${factory}: client.privateKey is required for private_key_jwt`);
      auth = privateKeyJwt(privateKey, kid, factory);
      break;
    }
    default:
      throw new ConfigurationError('ERR_INVALID_OPTIONS', `${factory}: client.method must be client_secret_basic, client_secret_post or private_key_jwt`);
  }

  const customFetch = (url: string, init: oauth.CustomFetchOptions<string, unknown>): Promise<Response> => fetchImpl(url, init as RequestInit);
  // oauth4webapi refuses http unless told; every URL it is given has passed isAllowedProtocol first.
  const requestOptions = () => ({
    [oauth.customFetch]: customFetch,
    [oauth.allowInsecureRequests]: true,
    signal: AbortSignal.timeout(timeout),
  });

  let authorizationServer: () => Promise<oauth.AuthorizationServer>;
  let label: string;
  if (options.tokenEndpoint !== undefined) {
    const endpoint = parseUrl(options.tokenEndpoint, 'tokenEndpoint', allowInsecureHttp);
    // Verbatim: it becomes the private_key_jwt audience, and issuers are compared as strings (RFC 8414 §3.3).
    const parsedIssuer = options.issuer === undefined ? undefined : parseUrl(options.issuer, 'issuer', allowInsecureHttp);
    const issuer = parsedIssuer === undefined ? endpoint.origin : typeof options.issuer === 'string' ? options.issuer : parsedIssuer.href;
    const as: oauth.AuthorizationServer = { issuer, token_endpoint: endpoint.href };
    authorizationServer = async () => as;
    label = endpoint.href;
  } else if (options.issuer !== undefined) {
    const issuer = parseUrl(options.issuer, 'issuer', allowInsecureHttp);
    let discovered: Promise<oauth.AuthorizationServer> | undefined;
    authorizationServer = () => {
      discovered ??= (async () => {
        try {
          const response = await oauth.discoveryRequest(issuer, { ...requestOptions(), algorithm: 'oauth2' });
          const as = await oauth.processDiscoveryResponse(issuer, response);
          if (!as.token_endpoint) throw new UpstreamTokenError('discovery_failed', `${issuer.href} advertises no token_endpoint`);
          // Held to the rules of a configured one: a user:password@ would reach every message that
          // names the endpoint (and fetch refuses it anyway). Never quoted, as it may hold a password.
          const endpoint = URL.parse(as.token_endpoint);
          if (!endpoint || endpoint.username !== '' || endpoint.password !== '') {
            throw new UpstreamTokenError('discovery_failed', `${issuer.href} advertises a token_endpoint that is not an absolute URL without user information`);
          }
          if (!isAllowedProtocol(endpoint, allowInsecureHttp)) {
            throw new UpstreamTokenError('discovery_failed', `${issuer.href} advertises a token_endpoint that is not https (http only on loopback hosts, or with allowInsecureHttp)`);
          }
          return as;
        } catch (error) {
          if (error instanceof UpstreamTokenError) throw error;
          throw new UpstreamTokenError('discovery_failed', `Could not discover the authorization server metadata of ${issuer.href}`, { cause: error });
        }
      })();
      // A failed discovery is retried on the next call, not cached.
      discovered.catch(() => {
        discovered = undefined;
      });
      return discovered;
    };
    label = issuer.href;
  } else {
    throw new ConfigurationError('ERR_MISSING_OPTION', `${factory}: give issuer (discovered, RFC 8414) or tokenEndpoint`);
  }

  const oauthClient: oauth.Client = { client_id: client.clientId };
  return {
    label,
    async request(grantType, parameters) {
      const as = await authorizationServer();
      const clientAuth = await auth();
      let response: Response;
      try {
        response = await oauth.genericTokenEndpointRequest(as, oauthClient, clientAuth, grantType, parameters, requestOptions());
      } catch (error) {
        throw new UpstreamTokenError('fetch_failed', `Could not reach the token endpoint ${as.token_endpoint}`, { cause: error });
      }
      try {
        return await processTokenResponse(as, oauthClient, response);
      } catch (error) {
        if (error instanceof oauth.ResponseBodyError) {
          // Only the OAuth error code goes in the message; the description is the AS's text, kept in `cause`.
          throw new UpstreamTokenError('token_request_refused', `${as.token_endpoint} refused the ${grantType} grant: ${error.error}`, { cause: scrubbed(error), oauthError: error.error, status: error.status });
        }
        throw new UpstreamTokenError('invalid_token_response', `${as.token_endpoint} answered the ${grantType} grant with an invalid response`, { cause: scrubbed(error), status: response.status });
      }
    },
  };
}

/**
 * oauth4webapi's processing, with two corrections. It throws WWWAuthenticateChallengeError on any
 * challenge before it reads the body, but RFC 6749 §5.2 has a 401 `invalid_client` carry both a
 * challenge and the OAuth error body: read the body anyway, so the refusal keeps its `error` (a
 * non-200 answer still throws either way). And it `parseFloat`s `expires_in`: hand on the raw value
 * for {@link toUpstreamToken} to judge.
 */
async function processTokenResponse(as: oauth.AuthorizationServer, client: oauth.Client, response: Response): Promise<TokenResponse> {
  // Only a 200 is ever processed into a token response.
  const raw = response.status === 200 ? response.clone() : undefined;
  try {
    const processed = await oauth.processGenericTokenEndpointResponse(as, client, response);
    const body = (await raw?.json()) as Record<string, oauth.JsonValue | undefined> | undefined;
    return { ...processed, expires_in: body?.['expires_in'] };
  } catch (error) {
    if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error;
    const headers = new Headers(response.headers);
    headers.delete('www-authenticate');
    const unchallenged = new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    return await oauth.processGenericTokenEndpointResponse(as, client, unchallenged);
  }
}

/**
 * An oauth4webapi error's name, message and code without its `cause`: that holds the parsed token
 * response (`cause.body`), tokens included, which must never reach a log through `console.error(err)`.
 */
function scrubbed(error: unknown): Error | undefined {
  if (!(error instanceof Error)) return undefined;
  const copy = new Error(error.message);
  copy.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  return copy;
}
