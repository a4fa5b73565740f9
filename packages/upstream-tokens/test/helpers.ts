import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJwtVerifier, type AuthInfo, type TokenVerifier } from '@portcullis/token-verification';
import type { DevAuthorizationServer } from '@portcullis/test-fixtures';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT_TYPE } from '../src/token-exchange.js';

/**
 * A second local service (the "upstream API") on 127.0.0.1: verifies Bearer JWTs with
 * `createJwtVerifier` for its own audience and records what it saw.
 */
export interface UpstreamService {
  readonly url: string;
  /** Raw Authorization token values received. */
  readonly tokensSeen: string[];
  /** Verified claims of each accepted request. */
  readonly claimsSeen: Readonly<Record<string, unknown>>[];
  /** Set once the AS is up. */
  verifier: TokenVerifier | undefined;
  close(): Promise<void>;
}

export async function startUpstreamService(): Promise<UpstreamService> {
  const tokensSeen: string[] = [];
  const claimsSeen: Readonly<Record<string, unknown>>[] = [];
  const state = { verifier: undefined as TokenVerifier | undefined };
  const server = createServer((req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !state.verifier) {
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      return;
    }
    tokensSeen.push(token);
    state.verifier(token).then(
      (auth) => {
        claimsSeen.push(auth.claims);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: auth.subject, act: auth.claims['act'] ?? null }));
      },
      (error: { status?: number; message?: string }) => res.writeHead(error.status ?? 500, { 'www-authenticate': 'Bearer error="invalid_token"' }).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`,
    tokensSeen,
    claimsSeen,
    get verifier() {
      return state.verifier;
    },
    set verifier(value) {
      state.verifier = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface ExchangeContext {
  oidc: {
    params: Record<string, unknown>;
    client: { clientId: string };
    provider: DevAuthorizationServer['provider'];
  };
  status: number;
  body: unknown;
}

type InternalConfiguration = { configuration: { extraTokenClaims: (ctx: ExchangeContext, token: { gty?: string; [key: string]: unknown }) => Promise<unknown> } };

/**
 * Enables an RFC 8693 token-exchange grant on the fixture's real oidc-provider. oidc-provider 9 ships
 * no token-exchange grant but has `registerGrantType`; this handler is the AS-side policy a real
 * deployment would configure:
 * - the subject token must be an access token this AS issued for the MCP server (`mcpResource`),
 *   verified with `createJwtVerifier` (signature, `iss`, `aud`, expiry);
 * - only the clients in `exchangers` (the MCP server's own clients) may exchange;
 * - the audience must be one of `upstreams`;
 * - the new token is the provider's own `AccessToken` model (a JWT signed with its keys) with
 *   `aud` = the upstream, `sub` = the caller and `act` = `{ sub: <exchanging client> }` (RFC 8693 §4.1).
 *
 * `act` goes through oidc-provider's `extraTokenClaims`, set on the running provider's configuration
 * (the dev AS does not expose that option, and the fixture is shared: only this provider is touched).
 */
export async function enableTokenExchange(
  as: DevAuthorizationServer,
  policy: { mcpResource: string; upstreams: Record<string, string>; exchangers: () => readonly string[] },
): Promise<void> {
  const verifySubject = createJwtVerifier({ issuer: as.issuer, audience: policy.mcpResource, allowInsecureHttp: true, requireRfc9068: true });
  // Reaching into oidc-provider's per-instance configuration: a test-only seam (see above).
  const specifier = 'oidc-provider/lib/helpers/weak_cache.js';
  const { default: instance } = (await import(specifier)) as { default: (provider: unknown) => InternalConfiguration };
  const configuration = instance(as.provider).configuration;
  const previous = configuration.extraTokenClaims;
  configuration.extraTokenClaims = async (ctx, token) => (token.gty === 'token-exchange' ? ((token as { actor?: unknown }).actor ?? undefined) : previous(ctx, token));

  const fail = (ctx: ExchangeContext, error: string, description: string) => {
    ctx.status = 400;
    ctx.body = { error, error_description: description };
  };
  const handler = async (ctx: ExchangeContext) => {
    const { params, client, provider } = ctx.oidc;
    if (!policy.exchangers().includes(client.clientId)) return fail(ctx, 'unauthorized_client', 'this client may not exchange tokens');
    if (params['subject_token_type'] !== ACCESS_TOKEN_TYPE) return fail(ctx, 'invalid_request', 'unsupported subject_token_type');
    if (params['requested_token_type'] !== undefined && params['requested_token_type'] !== ACCESS_TOKEN_TYPE) return fail(ctx, 'invalid_request', 'unsupported requested_token_type');
    let subject: AuthInfo;
    try {
      subject = await verifySubject(String(params['subject_token']));
    } catch {
      return fail(ctx, 'invalid_grant', 'subject_token is invalid, expired or not for this MCP server');
    }
    const audience = String(params['audience'] ?? params['resource'] ?? '');
    const scope = policy.upstreams[audience];
    if (scope === undefined) return fail(ctx, 'invalid_target', 'unknown audience');
    const AccessToken = (provider as unknown as { AccessToken: new (init: Record<string, unknown>) => { save(): Promise<string>; expiration: number; scope?: string; resourceServer: unknown; actor?: unknown } }).AccessToken;
    const ResourceServer = (provider as unknown as { ResourceServer: new (id: string, info: Record<string, unknown>) => unknown }).ResourceServer;
    const token = new AccessToken({ accountId: subject.subject, client, scope, gty: 'token-exchange' });
    token.resourceServer = new ResourceServer(audience, { audience, scope, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'ES256' } } });
    // The exchanging party (this MCP server) acts for the subject; a nested `act` would chain earlier actors.
    token.actor = { act: { sub: client.clientId, ...(subject.claims['act'] !== undefined && { act: subject.claims['act'] }) } };
    const value = await token.save();
    ctx.body = { access_token: value, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: token.expiration, scope: token.scope };
  };
  (as.provider as unknown as { registerGrantType(name: string, handler: unknown, params: string[], dupes: string[]): void }).registerGrantType(
    TOKEN_EXCHANGE_GRANT_TYPE,
    handler,
    ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'resource', 'scope', 'actor_token', 'actor_token_type'],
    ['audience', 'resource'],
  );
}

/** Registers a client over HTTP (RFC 7591): objects built in Jest's VM fail oidc-provider's `jwks` check. */
export async function registerClient(as: DevAuthorizationServer, metadata: Record<string, unknown>): Promise<{ client_id: string; client_secret?: string }> {
  const response = await fetch(`${as.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_types: [], redirect_uris: [], ...metadata }),
  });
  const body = (await response.json()) as { client_id: string; client_secret?: string; error?: string; error_description?: string };
  if (!response.ok) throw new Error(`registration failed: ${body.error} ${body.error_description ?? ''}`);
  return body;
}
