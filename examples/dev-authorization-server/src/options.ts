import type { ClientMetadata } from 'oidc-provider';

/** A protected resource (an MCP server) this AS issues tokens for, named by its RFC 8707 indicator. */
export interface DevResource {
  /** The resource indicator: the MCP server's canonical URL, e.g. `http://127.0.0.1:3000/mcp`. */
  readonly uri: string;
  /** Scopes a client may ask for at this resource. */
  readonly scopes: readonly string[];
  /** `jwt` (RFC 9068, default) or `opaque` (verified by RFC 7662 introspection). */
  readonly format?: 'jwt' | 'opaque';
  /** Access-token lifetime in seconds. Default 3600. */
  readonly accessTokenTTL?: number;
}

export interface DevAuthorizationServerOptions {
  /** Interface to listen on. Default `127.0.0.1`: this server is for development only. */
  readonly host?: string;
  /** Port; default 0 (an ephemeral port). */
  readonly port?: number;
  /** The resources to issue tokens for. */
  readonly resources: readonly DevResource[];
  /** Pre-registered clients (confidential resource servers that introspect, machine clients, …). */
  readonly clients?: readonly ClientMetadata[];
  /**
   * `auto` (default) signs in as `subject` and approves every consent (headless runs and tests);
   * `browser` shows a sign-in page and a consent page naming the client, redirect URI and scopes.
   */
  readonly interactions?: 'auto' | 'browser';
  /** The account every auto-approved login signs in as. Default `demo-user`. */
  readonly subject?: string;
  /**
   * Let a dynamically registered client ask for any scope of a resource, whatever `scope` it
   * registered with. Default `true`: the MCP SDK 1.x client registers the scope of the first
   * challenge as its own, and oidc-provider would then refuse every later step-up (`invalid_scope`).
   */
  readonly anyResourceScope?: boolean;
  /**
   * OAuth Client ID Metadata Documents (oidc-provider's experimental `clientIdMetadataDocument`,
   * draft-02): client IDs that are https URLs are fetched and used as the client's metadata.
   * oidc-provider refuses special-use addresses (loopback included) when it fetches them, so tests
   * on 127.0.0.1 pass a `fetch` that reaches their local https server (and trusts its certificate).
   */
  readonly clientIdMetadataDocuments?: { readonly fetch?: typeof fetch };
  /** Refresh-token lifetime in seconds. Default 1 day. */
  readonly refreshTokenTTL?: number;
  /**
   * Enables the RFC 8693 token-exchange grant (`urn:ietf:params:oauth:grant-type:token-exchange`), so
   * an MCP server can call another of these resources on behalf of its caller instead of forwarding
   * the caller's token. Default: disabled. See {@link DevTokenExchange}.
   */
  readonly tokenExchange?: DevTokenExchange;
}

/**
 * Policy of the dev AS's RFC 8693 token exchange. A request (`subject_token` of type
 * `urn:ietf:params:oauth:token-type:access_token`, `audience` and/or `resource`, optional `scope`) is
 * granted when:
 * - the authenticated client is one of `clients`, is confidential (not `token_endpoint_auth_method: none`)
 *   and lists the grant in its `grant_types`;
 * - the subject token is a valid access token this AS issued for one of `subjectResources` (a JWT is
 *   verified with `createJwtVerifier` against this AS's own keys; an opaque one is looked up in its store);
 * - `audience` / `resource` names one of `resources` (both given: the same one), and `scope` (default:
 *   all of that resource's scopes) only scopes of it.
 * The issued access token is for that resource (its format and lifetime), with `sub` = the subject
 * token's `sub` and `act: { sub: <requesting client_id> }` (RFC 8693 §4.1; an `act` already on the
 * subject token is nested inside). Refusals: `unauthorized_client`, `invalid_request`, `invalid_target`,
 * `invalid_scope`, `invalid_grant`.
 */
export interface DevTokenExchange {
  /**
   * The client IDs allowed to exchange (normally pre-registered confidential clients: the MCP servers),
   * or a predicate over the client ID — for clients registered at run time (RFC 7591), e.g. in tests.
   */
  readonly clients: readonly string[] | ((clientId: string) => boolean);
  /** Resources whose access tokens may be exchanged (the subject token's `aud`). Default: every resource. */
  readonly subjectResources?: readonly string[];
}
