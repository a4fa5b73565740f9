import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestKey, startTestAuthorizationServer, type DevAuthorizationServer, type TestKey } from '@portcullis/test-fixtures';
import { McpOAuthError } from '../src/errors.js';
import { createHeadlessAuthorizationHandler } from '../src/headless-authorization.js';
import { createOAuthClient, type McpOAuthClient, type OAuthClientOptions } from '../src/oauth-client.js';
import { asStoredTokens, createMemoryStore, type TokenStore } from '../src/token-store.js';
import { withOAuth } from '../src/with-oauth.js';
import { startResourceServer, type TestResourceServer } from './helpers/resource-server.js';

const SCOPES = ['mcp:tools', 'files:read', 'files:write'];
const redirectUri = 'http://127.0.0.1:65000/callback';
const post = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const toolsList = post({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

let as: DevAuthorizationServer;
let rs: TestResourceServer;
let jwtKey: TestKey;
let jwtClientId: string;

beforeAll(async () => {
  jwtKey = await createTestKey('ES256');
  rs = await startResourceServer({ scopesSupported: ['mcp:tools'] });
  as = await startTestAuthorizationServer({
    resources: [{ uri: rs.url, scopes: SCOPES }],
  });
  rs.issuer = as.issuer;
  // Registered over HTTP (RFC 7591) rather than through the fixture's `clients` option: oidc-provider checks
  // the JWKS with a same-realm `constructor === Object` test that objects built inside Jest's VM fail.
  const registration = await fetch(`${as.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [jwtKey.publicJwk] },
    }),
  });
  jwtClientId = ((await registration.json()) as { client_id: string }).client_id;
});
afterAll(async () => {
  await rs.close();
  await as.close();
});

function userClient(store: TokenStore, extra: Partial<OAuthClientOptions> = {}): McpOAuthClient {
  return createOAuthClient({ redirectUri, allowInsecureLoopback: true, authorizationHandler: createHeadlessAuthorizationHandler(), store, ...extra });
}

async function expireAccessToken(client: McpOAuthClient, store: TokenStore): Promise<string> {
  const ctx = await client.context(rs.url);
  const tokens = asStoredTokens(await store.get(ctx.tokensKey))!;
  await store.set(ctx.tokensKey, { ...tokens, expiresAt: Date.now() - 1000 });
  return tokens.refreshToken!;
}

describe('end to end against oidc-provider', () => {
  it('C-02 C-07 C-16 C-25 C-27 authorization code + PKCE with dynamic registration, through withOAuth', async () => {
    const store = createMemoryStore();
    const client = userClient(store);
    const fetch = withOAuth(globalThis.fetch, client);
    const response = await fetch(rs.url, toolsList);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { scopes: string[] }).scopes).toEqual(['mcp:tools']);
    const ctx = await client.context(rs.url);
    expect(ctx.client.source).toBe('dynamic');
    const stored = asStoredTokens(await store.get(ctx.tokensKey));
    expect(stored?.refreshToken).toBeDefined();
    expect(stored?.expiresAt).toBeGreaterThan(Date.now());
    expect(stored?.resource).toBe(rs.url);
  });

  it('C-35 C-36 the access token travels in the Authorization header of each MCP request, never in a URL', async () => {
    const store = createMemoryStore();
    const client = userClient(store);
    const sent: { url: string; authorization: string | null }[] = [];
    const recording: typeof globalThis.fetch = (input, init) => {
      sent.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
      return globalThis.fetch(input, init);
    };
    const fetch = withOAuth(recording, client);
    expect((await fetch(rs.url, toolsList)).status).toBe(200);
    expect((await fetch(`${rs.url}?page=2`, toolsList)).status).toBe(200);
    const token = asStoredTokens(await store.get((await client.context(rs.url)).tokensKey))!.accessToken;
    expect(sent.filter((r) => r.authorization === `Bearer ${token}`)).toHaveLength(2);
    expect(sent.some((r) => r.url.includes(token) || new URL(r.url).searchParams.has('access_token'))).toBe(false);
    expect(rs.tokensSeen.filter((seen) => seen === token)).toHaveLength(2);
  });

  it('C-39 refresh before expiry with rotation: the new refresh token replaces the spent one', async () => {
    const store = createMemoryStore();
    const client = userClient(store);
    const fetch = withOAuth(globalThis.fetch, client);
    expect((await fetch(rs.url, toolsList)).status).toBe(200);
    const oldRefresh = await expireAccessToken(client, store);
    const before = as.requestCount('/token');
    expect((await fetch(rs.url, toolsList)).status).toBe(200);
    expect(as.requestCount('/token') - before).toBe(1);
    const stored = asStoredTokens(await store.get((await client.context(rs.url)).tokensKey))!;
    expect(stored.refreshToken).toBeDefined();
    expect(stored.refreshToken).not.toBe(oldRefresh);
    expect(stored.expiresAt).toBeGreaterThan(Date.now());
  });

  it('50 concurrent requests with an expired access token → exactly 1 refresh, all succeed, newest refresh token stored', async () => {
    const store = createMemoryStore();
    const client = userClient(store);
    const fetch = withOAuth(globalThis.fetch, client);
    expect((await fetch(rs.url, toolsList)).status).toBe(200);
    const oldRefresh = await expireAccessToken(client, store);
    const before = as.requestCount('/token');
    const responses = await Promise.all(Array.from({ length: 50 }, () => fetch(rs.url, toolsList)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(as.requestCount('/token') - before).toBe(1);
    const stored = asStoredTokens(await store.get((await client.context(rs.url)).tokensKey))!;
    expect(stored.refreshToken).not.toBe(oldRefresh);
    // The stored refresh token is the live one: the AS has it unconsumed, and the old one consumed.
    const live = await as.provider.RefreshToken.find(stored.refreshToken!);
    expect(live?.consumed).toBeFalsy();
    const spent = await as.provider.RefreshToken.find(oldRefresh);
    expect(spent?.consumed).toBeTruthy();
  });

  it('a refused refresh (invalid_grant) removes the dead tokens and falls back to a new authorization', async () => {
    const store = createMemoryStore();
    const client = userClient(store);
    const fetch = withOAuth(globalThis.fetch, client);
    expect((await fetch(rs.url, toolsList)).status).toBe(200);
    const ctx = await client.context(rs.url);
    const tokens = asStoredTokens(await store.get(ctx.tokensKey))!;
    await store.set(ctx.tokensKey, { ...tokens, refreshToken: 'not-a-live-refresh-token', expiresAt: Date.now() - 1000 });
    const authorizationsBefore = as.requestCount('/auth');
    expect((await fetch(rs.url, toolsList)).status).toBe(200);
    expect(as.requestCount('/auth') - authorizationsBefore).toBe(1);
    expect(asStoredTokens(await store.get(ctx.tokensKey))?.refreshToken).not.toBe('not-a-live-refresh-token');
  });

  it('C-22 C-23 step-up on 403 insufficient_scope requests granted ∪ challenged scopes', async () => {
    const store = createMemoryStore();
    const client = userClient(store);
    const fetch = withOAuth(globalThis.fetch, client);
    expect((await fetch(rs.url, toolsList)).status).toBe(200);
    rs.requiredScopes = (body) => (body.includes('write_file') ? ['files:write'] : []);
    try {
      const response = await fetch(rs.url, post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'write_file' } }));
      expect(response.status).toBe(200);
      const { scopes } = (await response.json()) as { scopes: string[] };
      expect(scopes).toEqual(expect.arrayContaining(['mcp:tools', 'files:write']));
    } finally {
      rs.requiredScopes = () => [];
    }
  });

  it('C-24 gives up stepping up after the cap for one operation', async () => {
    const client = userClient(createMemoryStore(), { maxStepUps: 2 });
    const fetch = withOAuth(globalThis.fetch, client);
    rs.requiredScopes = (body) => (body.includes('admin_tool') ? ['scope:that-is-never-granted'] : []);
    try {
      const before = as.requestCount('/auth');
      const error = await fetch(rs.url, post({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'admin_tool' } })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(McpOAuthError);
      expect((error as McpOAuthError).code).toBe('step_up_limit');
      // The first authorization plus two step-ups, never more.
      expect(as.requestCount('/auth') - before).toBe(3);
    } finally {
      rs.requiredScopes = () => [];
    }
  });

  it('X-01 X-02 client credentials with private_key_jwt (RFC 7523 §2.2)', async () => {
    const client = createOAuthClient({
      grant: { type: 'client_credentials' },
      allowInsecureLoopback: true,
      preRegistered: [{ clientId: jwtClientId, privateKey: { key: jwtKey.privateKey, kid: jwtKey.kid }, issuer: as.issuer }],
    });
    const fetch = withOAuth(globalThis.fetch, client);
    const response = await fetch(rs.url, toolsList);
    expect(response.status).toBe(200);
    expect((await client.context(rs.url)).client.tokenEndpointAuthMethod).toBe('private_key_jwt');
  });

  it('programmatic API for multi-user hosts: the host gets the URL and hands back the callback; one-shot state', async () => {
    const store = createMemoryStore();
    const alice = createOAuthClient({ redirectUri, allowInsecureLoopback: true, store, account: 'alice' });
    const { authorizationUrl, state } = await alice.startAuthorization(rs.url);
    expect(authorizationUrl.searchParams.get('state')).toBe(state);
    expect(authorizationUrl.searchParams.get('resource')).toBe(rs.url);
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    const callback = await createHeadlessAuthorizationHandler()(authorizationUrl, { redirectUri, fetch: alice.oauthFetch });
    const tokens = await alice.completeAuthorization(callback);
    expect(tokens.accessToken).toBeTruthy();
    await expect(alice.completeAuthorization(callback)).rejects.toMatchObject({ code: 'unknown_authorization' });
    // Tokens are partitioned per account.
    const bob = createOAuthClient({ redirectUri, allowInsecureLoopback: true, store, account: 'bob' });
    await bob.context(rs.url);
    expect(await bob.tokens(rs.url)).toBeUndefined();
    expect((await alice.tokens(rs.url))?.accessToken).toBe(tokens.accessToken);
  });
});

describe('Client ID Metadata Document end to end (C-10, C-11)', () => {
  const clientId = 'https://client.portcullis.test/oauth/client.json';
  let cimdAs: DevAuthorizationServer;
  let cimdRs: TestResourceServer;
  let documentFetches = 0;
  beforeAll(async () => {
    cimdRs = await startResourceServer({ scopesSupported: ['mcp:tools'] });
    // The AS fetches the document over https; this stands in for the client's web host at the AS's network edge.
    const documentHost = async (input: string | URL | Request) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (url !== clientId) return new Response('not found', { status: 404 });
      documentFetches++;
      return Response.json({
        client_id: clientId,
        client_name: 'Portcullis test client',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      });
    };
    cimdAs = await startTestAuthorizationServer({
      resources: [{ uri: cimdRs.url, scopes: SCOPES }],
      clientIdMetadataDocuments: { fetch: documentHost as typeof fetch },
    });
    cimdRs.issuer = cimdAs.issuer;
  });
  afterAll(async () => {
    await cimdRs.close();
    await cimdAs.close();
  });

  it('C-09 C-10 uses the CIMD URL as client_id when the AS advertises support, without registering', async () => {
    const client = userClient(createMemoryStore(), { clientMetadataUrl: clientId });
    const fetch = withOAuth(globalThis.fetch, client);
    cimdRs.issuer = cimdAs.issuer;
    const response = await fetch(cimdRs.url, toolsList);
    expect(response.status).toBe(200);
    const ctx = await client.context(cimdRs.url);
    expect(ctx.client).toMatchObject({ source: 'cimd', clientId });
    expect(cimdAs.requestCount('/reg')).toBe(0);
    expect(documentFetches).toBeGreaterThanOrEqual(1);
  });
});
