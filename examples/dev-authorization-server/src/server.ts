import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { autoApprove, browserInteraction } from './interactions.js';
import type { DevAuthorizationServerOptions, DevResource } from './options.js';
import { registerTokenExchange, type ActorClaims } from './token-exchange.js';

export interface DevAuthorizationServer {
  /** The issuer identifier, e.g. `http://127.0.0.1:43121`. */
  readonly issuer: string;
  /** The underlying oidc-provider, for tests that need to reach in (revoking a grant, adding clients). */
  readonly provider: Provider;
  /** Requests received per pathname since start, counted at the server (not in the client under test). */
  requestCount(pathname: string): number;
  /** Tokens issued per `grant_type` since start (successful token-endpoint responses), e.g. `urn:ietf:params:oauth:grant-type:token-exchange`. */
  grantCount(grantType: string): number;
  close(): Promise<void>;
}

/** Starts a development-only authorization server on loopback. Fresh signing keys at each start. */
export async function startDevAuthorizationServer(options: DevAuthorizationServerOptions): Promise<DevAuthorizationServer> {
  const host = options.host ?? '127.0.0.1';
  const subject = options.subject ?? 'demo-user';
  const counts = new Map<string, number>();
  const grants = new Map<string, number>();

  // Listen first: the issuer must contain the real port before the provider is built.
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    counts.set(pathname, (counts.get(pathname) ?? 0) + 1);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const resourceScopes = new Set(options.resources.flatMap((r) => r.scopes));
  const keys = await signingKeys();
  const actors: ActorClaims = new WeakMap();
  let provider: Provider;
  try {
    provider = new Provider(issuer, configuration(options, keys.private, actors));
    if (options.tokenExchange) {
      registerTokenExchange(provider, options.tokenExchange, new Map(options.resources.map((r) => [r.uri, r])), keys.public, actors, resourceServerInfo);
    }
  } catch (error) {
    server.close();
    throw error;
  }
  // Loopback over plain HTTP is the point of this server; oidc-provider only needs to know it is not behind a proxy.
  provider.proxy = false;
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = String((ctx.oidc.params as Record<string, unknown> | undefined)?.['grant_type'] ?? '');
    grants.set(grantType, (grants.get(grantType) ?? 0) + 1);
  });
  const callback = provider.callback();
  handler = (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname === '/reg' && req.method === 'POST' && (options.anyResourceScope ?? true)) {
      withoutResourceScopes(req, resourceScopes)
        .then(() => callback(req, res))
        .catch((error: unknown) => res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error)));
      return;
    }
    if (pathname.startsWith('/interaction/')) {
      const interaction = options.interactions === 'browser' ? browserInteraction(provider, req, res) : autoApprove(provider, req, res, subject);
      interaction.catch((error: unknown) => {
        // oidc-provider's errors carry their status (a missing interaction cookie is a 400).
        const status = (error as { statusCode?: number }).statusCode ?? 500;
        if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status === 500 ? 'interaction failed' : String((error as Error).message));
      });
      return;
    }
    callback(req, res);
  };

  return {
    issuer,
    provider,
    requestCount: (pathname) => counts.get(pathname) ?? 0,
    grantCount: (grantType) => grants.get(grantType) ?? 0,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Fresh signing keys: the private JWKs for oidc-provider, and the public set (what `jwks_uri` serves). */
async function signingKeys(): Promise<{ private: JWK[]; public: JSONWebKeySet }> {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const es = { kid: `es-${Date.now().toString(36)}`, alg: 'ES256', use: 'sig' };
  const rs = { kid: `rs-${Date.now().toString(36)}`, alg: 'RS256', use: 'sig' };
  return {
    private: [
      { ...(await exportJWK(ec.privateKey)), ...es },
      { ...(await exportJWK(rsa.privateKey)), ...rs },
    ],
    public: {
      keys: [
        { ...(await exportJWK(ec.publicKey)), ...es },
        { ...(await exportJWK(rsa.publicKey)), ...rs },
      ],
    },
  };
}

/** How oidc-provider issues access tokens for a resource (its RFC 8707 resource-server info). */
function resourceServerInfo(resource: DevResource) {
  const scope = resource.scopes.join(' ');
  return resource.format === 'opaque'
    ? { scope, audience: resource.uri, accessTokenFormat: 'opaque' as const, accessTokenTTL: resource.accessTokenTTL ?? 3600 }
    : {
        scope,
        audience: resource.uri,
        accessTokenFormat: 'jwt' as const,
        accessTokenTTL: resource.accessTokenTTL ?? 3600,
        jwt: { sign: { alg: 'ES256' as const } },
      };
}

function configuration(options: DevAuthorizationServerOptions, keys: JWK[], actors: ActorClaims): Configuration {
  const resources = new Map<string, DevResource>(options.resources.map((r) => [r.uri, r]));
  const resourceScopes = [...new Set(options.resources.flatMap((r) => r.scopes))];

  return {
    clients: options.clients ? [...options.clients] : [],
    jwks: { keys },
    scopes: ['openid', 'offline_access', ...resourceScopes],
    claims: { openid: ['sub'] },
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    // Claims added to access tokens: `act` (RFC 8693 §4.1) on the ones the token exchange issues.
    extraTokenClaims: async (_ctx, token) => actors.get(token),
    pkce: { required: () => true },
    responseTypes: ['code'],
    ttl: {
      AccessToken: (_ctx, token) => resources.get(token.aud as string)?.accessTokenTTL ?? 3600,
      ClientCredentials: (_ctx, token) => resources.get(token.aud as string)?.accessTokenTTL ?? 3600,
      RefreshToken: options.refreshTokenTTL ?? 86_400,
      Interaction: 3600,
      Session: 86_400,
      Grant: 86_400,
    },
    // Refresh tokens for every client that registered the grant (oidc-provider's default also wants
    // `offline_access`), rotated on every use so clients must keep the newest (OAuth 2.1 §4.3.1).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    features: {
      devInteractions: { enabled: false },
      introspection: {
        enabled: true,
        // Only confidential clients (resource servers) may introspect.
        allowedPolicy: async (_ctx, client) => client.clientAuthMethod !== 'none',
      },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      registration: { enabled: true, initialAccessToken: false },
      ...(options.clientIdMetadataDocuments
        ? { clientIdMetadataDocument: { enabled: true, ack: 'draft-02' as const } }
        : {}),
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf ?? options.resources[0]?.uri,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          const resource = resources.get(indicator);
          if (!resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          return resourceServerInfo(resource);
        },
      },
    },
    enabledJWA: {
      clientAuthSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA', 'HS256'],
    },
    renderError: async (ctx, out) => {
      ctx.type = 'application/json';
      ctx.body = out;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [crypto.randomUUID()] },
    ...(options.clientIdMetadataDocuments?.fetch ? { fetch: withoutDispatcher(options.clientIdMetadataDocuments.fetch) } : {}),
    conformIdTokenClaims: false,
    clientBasedCORS: () => true,
  };
}

/**
 * Rewrites a registration request's `scope` so that it does not become an allowlist of resource scopes
 * (oidc-provider enforces `client.scope` on every request): without other scopes it is dropped, else
 * every resource scope is added to the ones registered.
 * oidc-provider then reads the rewritten body from `req.body`.
 */
async function withoutResourceScopes(req: IncomingMessage, resourceScopes: ReadonlySet<string>): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 56 * 1024) throw new Error('registration request too large');
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  let body = raw;
  try {
    const metadata = JSON.parse(raw) as Record<string, unknown>;
    if (typeof metadata['scope'] === 'string') {
      const kept = metadata['scope'].split(' ').filter((scope) => scope && !resourceScopes.has(scope));
      // A registered scope is also an allowlist: keeping only `offline_access` (the MCP SDK 2.x registers
      // `mcp:tools offline_access`) would refuse every resource scope, so they are all added back.
      if (kept.length) metadata['scope'] = [...kept, ...resourceScopes].join(' ');
      else delete metadata['scope'];
      body = JSON.stringify(metadata);
    }
  } catch {
    // Not JSON: oidc-provider answers invalid_request itself from the untouched body.
  }
  (req as IncomingMessage & { body?: string }).body = body;
}

/** oidc-provider passes its own SSRF-guarding dispatcher; a test's fetch brings its own. */
function withoutDispatcher(fetchImpl: typeof fetch): typeof fetch {
  return (input, init) => {
    const { dispatcher: _dispatcher, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
    return fetchImpl(input, rest);
  };
}
