import type { DevAuthorizationServerOptions } from '@portcullis/dev-authorization-server';

/** Options of {@link startExampleServer}. `main.ts` fills them from the environment. */
export interface ExampleServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** Port. Default 3000; 0 picks a free port. */
  readonly port?: number;
  /**
   * Issuer of the authorization server to trust. Default: none given, so a development
   * authorization server (`@portcullis/dev-authorization-server`) is started in this process.
   */
  readonly issuer?: string;
  /** The resource identifier (RFC 8707, RFC 9728). Default `http://<host>:<port>/mcp`. */
  readonly resource?: string;
  /**
   * Browser origins allowed to call the server (S-28; a request with any other `Origin` gets 403, one
   * without `Origin` passes). Default: bound to loopback, any loopback origin and the resource's;
   * otherwise the resource's origin only.
   */
  readonly allowedOrigins?: readonly string[];
  /** Scopes every MCP request needs (and the 401 challenge asks for). Default `['mcp:tools']`. */
  readonly scopes?: readonly string[];
  /** The extra scope of the `admin_report` tool (a per-tool scope, so clients step up). Default `mcp:admin`. */
  readonly adminScope?: string;
  /**
   * How access tokens are verified: `jwt` (RFC 9068, keys from the issuer's `jwks_uri`, default) or
   * `opaque` (RFC 7662 introspection; needs `introspectionClient` unless the dev AS runs in-process).
   */
  readonly tokenFormat?: 'jwt' | 'opaque';
  /** Credentials this server introspects with (`client_secret_basic`). Default with the in-process dev AS: a fresh random pair. */
  readonly introspectionClient?: { readonly clientId: string; readonly clientSecret: string };
  /**
   * The `upstream_whoami` tool and the upstream API it calls (a second local service, `src/upstream-api.ts`).
   * With the in-process dev AS both are always on. With `issuer`, only when `upstream.client` is given.
   */
  readonly upstream?: ExampleUpstreamOptions;
  /** Extra settings of the in-process development authorization server (ignored when `issuer` is given). */
  readonly devAuthorizationServer?: Omit<Partial<DevAuthorizationServerOptions>, 'resources'>;
}

/** The example's upstream API and the token exchange the `upstream_whoami` tool uses to call it. */
export interface ExampleUpstreamOptions {
  /**
   * This server's own confidential client at the AS, for the RFC 8693 token exchange (`client_secret_basic`).
   * Default with the in-process dev AS: the server's pre-registered client `example-mcp-server` with a fresh
   * random secret (allowed to exchange). With `issuer`: required, or the tool is not registered.
   */
  readonly client?: { readonly clientId: string; readonly clientSecret: string };
  /**
   * Port of the upstream API on 127.0.0.1. Default 0 (ephemeral). With an external AS, fix it so that its
   * audience `http://127.0.0.1:<port>/api` can be configured there as a resource.
   */
  readonly port?: number;
  /** Sees the `Authorization` header of every request the upstream API receives (tests). Never log it. */
  readonly onRequest?: (authorization: string | undefined) => void;
}
