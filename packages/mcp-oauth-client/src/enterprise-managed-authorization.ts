import { formEncode } from './client-authentication.js';
import { McpOAuthError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';
import type { AssertionContext, GrantOptions } from './oauth-client.js';
import type { FetchLike } from './safe-fetch.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

/** The client as the enterprise IdP knows it. */
export interface IdpClient {
  readonly clientId: string;
  /** When set, `client_secret_basic`; otherwise `client_id` in the body (a public client). */
  readonly clientSecret?: string;
}

/** Inputs of {@link requestIdJag}. */
export interface IdJagRequest {
  /** The IdP's token endpoint (configured per organization, X-11). */
  readonly idpTokenEndpoint: string;
  readonly idpClient: IdpClient;
  /** The user's token at the IdP: an ID token (default type) or, with `subjectTokenType`, a refresh token or SAML assertion. */
  readonly subjectToken: string;
  /** Default `urn:ietf:params:oauth:token-type:id_token`. */
  readonly subjectTokenType?: string;
  /** The MCP authorization server's issuer: the ID-JAG's audience (X-09). */
  readonly audience: string;
  /** The MCP server's RFC 9728 resource identifier. */
  readonly resource: string;
  readonly scopes?: readonly string[];
  /** The guarded fetch. */
  readonly fetch: FetchLike;
}

/**
 * RFC 8693 token exchange at the enterprise IdP for an Identity Assertion JWT Authorization Grant
 * (ID-JAG, X-07): `requested_token_type=…:id-jag`, `audience` = the MCP AS, `resource` = the MCP server.
 * Hand-written: oauth4webapi's generic grant processing expects an access-token response, and the
 * ID-JAG answer carries `token_type: N_A`. Returns the ID-JAG (never logged).
 */
export async function requestIdJag(request: IdJagRequest): Promise<string> {
  for (const field of ['idpTokenEndpoint', 'subjectToken', 'audience', 'resource'] as const) {
    if (typeof request[field] !== 'string' || request[field] === '') throw new McpOAuthError('invalid_options', `requestIdJag needs ${field}`);
  }
  if (typeof request.idpClient?.clientId !== 'string') throw new McpOAuthError('invalid_options', 'requestIdJag needs idpClient.clientId');
  const body = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE_GRANT,
    requested_token_type: ID_JAG_TOKEN_TYPE,
    subject_token: request.subjectToken,
    subject_token_type: request.subjectTokenType ?? ID_TOKEN_TYPE,
    audience: request.audience,
    resource: request.resource,
  });
  if (request.scopes && request.scopes.length > 0) body.set('scope', request.scopes.join(' '));
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (request.idpClient.clientSecret !== undefined) {
    // RFC 6749 §2.3.1: form-encode both parts before base64 (the same encoding as client_secret_basic).
    const credentials = `${formEncode(request.idpClient.clientId)}:${formEncode(request.idpClient.clientSecret)}`;
    headers['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  } else {
    body.set('client_id', request.idpClient.clientId);
  }
  // Never followed: a redirect would re-post the user's ID token (subject_token) elsewhere.
  const response = await request.fetch(request.idpTokenEndpoint, { method: 'POST', headers, body: body.toString(), redirect: 'manual' });
  let json: Record<string, unknown> | undefined;
  try {
    json = (await response.json()) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  if (response.status !== 200 || typeof json?.['access_token'] !== 'string') {
    const oauthError = typeof json?.['error'] === 'string' ? json['error'] : undefined;
    throw new McpOAuthError('token_request_failed', `The IdP token exchange failed (HTTP ${response.status}${oauthError ? ` ${oauthError}` : ''})`, {
      status: response.status,
      ...(oauthError !== undefined && { oauthError }),
    });
  }
  if (json['issued_token_type'] !== undefined && json['issued_token_type'] !== ID_JAG_TOKEN_TYPE) {
    throw new McpOAuthError('token_request_failed', `The IdP issued ${String(json['issued_token_type'])}, not an ID-JAG`);
  }
  return json['access_token'];
}

/** Options of {@link enterpriseManagedAuthorization}. */
export interface EnterpriseManagedAuthorizationOptions {
  readonly idpTokenEndpoint: string;
  readonly idpClient: IdpClient;
  /** Returns the user's current IdP token (ID token by default). */
  readonly subjectToken: () => Promise<string> | string;
  readonly subjectTokenType?: string;
}

const ENTERPRISE_MANAGED_AUTHORIZATION_OPTIONS: KnownOptions<EnterpriseManagedAuthorizationOptions> = {
  idpTokenEndpoint: true,
  idpClient: true,
  subjectToken: true,
  subjectTokenType: true,
};
const IDP_CLIENT: KnownOptions<IdpClient> = { clientId: true, clientSecret: true };

/**
 * The enterprise-managed authorization grant (X-07…X-11): each time a token is needed, exchange the
 * IdP token for an ID-JAG for this AS and resource, then present it with the RFC 7523 jwt-bearer grant.
 * Use as `createOAuthClient({ grant: enterpriseManagedAuthorization({...}), preRegistered: [...] })`.
 */
export function enterpriseManagedAuthorization(options: EnterpriseManagedAuthorizationOptions): GrantOptions {
  assertKnownOptions(options, ENTERPRISE_MANAGED_AUTHORIZATION_OPTIONS, 'enterpriseManagedAuthorization options');
  assertKnownOptions(options.idpClient, IDP_CLIENT, 'enterpriseManagedAuthorization idpClient');
  return {
    type: 'jwt_bearer',
    assertion: async (context: AssertionContext) =>
      requestIdJag({
        idpTokenEndpoint: options.idpTokenEndpoint,
        idpClient: options.idpClient,
        subjectToken: await options.subjectToken(),
        ...(options.subjectTokenType !== undefined && { subjectTokenType: options.subjectTokenType }),
        audience: context.issuer,
        resource: context.resource,
        ...(context.scopes && { scopes: context.scopes }),
        fetch: context.fetch,
      }),
  };
}
