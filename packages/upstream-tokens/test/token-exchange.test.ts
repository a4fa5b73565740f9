import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigurationError, createJwtVerifier, type AuthInfo } from '@portcullis/token-verification';
import { clientCredentialsToken, createTestKey, JWT_RESOURCE, RESOURCE_SCOPES, startTestAuthorizationServer, type DevAuthorizationServer, type TestKey } from '@portcullis/test-fixtures';
import { UpstreamTokenError } from '../src/errors.js';
import { createTokenExchanger, type TokenExchangerOptions } from '../src/token-exchange.js';
import { upstreamFetch } from '../src/upstream-fetch.js';
import { registerClient, startUpstreamService, type UpstreamService } from './helpers.js';

// Token exchange runs on the fixture's real oidc-provider 9 (the development AS). oidc-provider ships
// no RFC 8693 grant; the dev AS's `tokenExchange` option installs one with `provider.registerGrantType`
// and issues the provider's own signed JWT access tokens, with `act` through its `extraTokenClaims`.
// Everything between our exchanger and that grant is real HTTP.
let as: DevAuthorizationServer;
let upstream: UpstreamService;
let verifyIncoming: ReturnType<typeof createJwtVerifier>;
const exchangers: string[] = [];
const basic = { clientId: '', clientSecret: '' };
const post = { clientId: '', clientSecret: '' };
let jwtKey: TestKey;
let jwtClientId = '';

beforeAll(async () => {
  upstream = await startUpstreamService();
  as = await startTestAuthorizationServer({
    resources: [
      { uri: JWT_RESOURCE, scopes: RESOURCE_SCOPES },
      { uri: upstream.url, scopes: ['upstream:read'] },
    ],
    // Only the MCP server's clients (registered below, over HTTP) may exchange, and only its callers' tokens.
    tokenExchange: { clients: (clientId) => exchangers.includes(clientId), subjectResources: [JWT_RESOURCE] },
  });
  upstream.verifier = createJwtVerifier({ issuer: as.issuer, audience: upstream.url, allowInsecureHttp: true, requireRfc9068: true });
  verifyIncoming = createJwtVerifier({ issuer: as.issuer, audience: JWT_RESOURCE, allowInsecureHttp: true });
  const grant_types = ['urn:ietf:params:oauth:grant-type:token-exchange'];
  const b = await registerClient(as, { client_name: 'mcp-server (basic)', grant_types, token_endpoint_auth_method: 'client_secret_basic' });
  const p = await registerClient(as, { client_name: 'mcp-server (post)', grant_types, token_endpoint_auth_method: 'client_secret_post' });
  jwtKey = await createTestKey('ES256');
  const j = await registerClient(as, {
    client_name: 'mcp-server (private_key_jwt)',
    grant_types,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [jwtKey.publicJwk] },
  });
  Object.assign(basic, { clientId: b.client_id, clientSecret: b.client_secret });
  Object.assign(post, { clientId: p.client_id, clientSecret: p.client_secret });
  jwtClientId = j.client_id;
  exchangers.push(b.client_id, p.client_id, j.client_id);
});
afterAll(async () => {
  await upstream.close();
  await as.close();
});

/** The caller: a real token for the MCP server from the AS, verified as the MCP server would (req.auth). */
async function incoming(): Promise<AuthInfo> {
  const { access_token } = await clientCredentialsToken(as, { resource: JWT_RESOURCE, scope: 'mcp:tools' });
  return verifyIncoming(access_token);
}

const exchangerWith = (client: TokenExchangerOptions['client'], extra: Partial<TokenExchangerOptions> = {}) =>
  createTokenExchanger({ issuer: as.issuer, allowInsecureHttp: true, client, ...extra } as TokenExchangerOptions);

describe('RFC 8693 token exchange on the real oidc-provider (issue 8)', () => {
  it('S-13 B-01 the upstream sees a token for itself (aud), with sub = the caller and act = this server, never the original token; a second call makes no new exchange', async () => {
    const auth = await incoming();
    const exchanger = exchangerWith({ method: 'client_secret_basic', ...basic });
    const api = upstreamFetch(() => exchanger.exchange(auth, { audience: upstream.url, resource: upstream.url }));
    const before = as.requestCount('/token');
    const seenBefore = upstream.tokensSeen.length;

    const first = await api(upstream.url);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ sub: 'machine-client', act: { sub: basic.clientId } });
    const second = await api(upstream.url, { headers: { authorization: `Bearer ${auth.token}` } });
    expect(second.status).toBe(200);

    expect(as.requestCount('/token') - before).toBe(1);
    const seen = upstream.tokensSeen.slice(seenBefore);
    expect(seen).toHaveLength(2);
    expect(seen).not.toContain(auth.token);
    expect(seen[0]).toBe(seen[1]);
    const claims = upstream.claimsSeen.at(-1)!;
    expect(claims['aud']).toBe(upstream.url);
    expect(claims['sub']).toBe(auth.subject);
    expect(claims['act']).toEqual({ sub: basic.clientId });
    expect(claims['client_id']).toBe(basic.clientId);
    expect(claims['scope']).toBe('upstream:read');
    // The caller's token was for the MCP server, not the upstream: the upstream itself refuses it.
    expect((await fetch(upstream.url, { headers: { authorization: `Bearer ${auth.token}` } })).status).toBe(401);
  });

  it.each([
    ['client_secret_post', () => ({ method: 'client_secret_post' as const, ...post })],
    ['private_key_jwt (RFC 7523 §2.2)', () => ({ method: 'private_key_jwt' as const, clientId: jwtClientId, privateKey: jwtKey.privateKey, kid: jwtKey.kid })],
  ])('authenticates with the server’s own credentials: %s', async (_name, client) => {
    const auth = await incoming();
    const token = await exchangerWith(client()).exchange(auth, { audience: upstream.url });
    const response = await fetch(upstream.url, { headers: { authorization: `Bearer ${token.accessToken}` } });
    expect(response.status).toBe(200);
    expect(upstream.claimsSeen.at(-1)!['act']).toEqual({ sub: client().clientId });
    expect(token.tokenType).toBe('Bearer');
    expect(token.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it('single-flight: concurrent exchanges for one (subject, audience) send one request; another subject or scope is another exchange', async () => {
    const [alice, bob] = [await incoming(), await incoming()];
    const exchanger = exchangerWith({ method: 'client_secret_basic', ...basic });
    const before = as.requestCount('/token');
    const tokens = await Promise.all(Array.from({ length: 5 }, () => exchanger.exchange(alice, { audience: upstream.url })));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(as.requestCount('/token') - before).toBe(1);
    await exchanger.exchange(bob, { audience: upstream.url });
    await exchanger.exchange(alice, { audience: upstream.url, scope: ['upstream:read'] });
    expect(as.requestCount('/token') - before).toBe(3);
  });

  it('exchanges again once the cached token is within the skew of its expiry (time through `now`)', async () => {
    const auth = await incoming();
    let clock = Date.now();
    const exchanger = exchangerWith({ method: 'client_secret_basic', ...basic }, { now: () => clock, cache: { skewSeconds: 30 } });
    const before = as.requestCount('/token');
    const first = await exchanger.exchange(auth, { audience: upstream.url });
    clock = first.expiresAt! * 1000 - 31_000;
    expect((await exchanger.exchange(auth, { audience: upstream.url })).accessToken).toBe(first.accessToken);
    clock = first.expiresAt! * 1000 - 29_000;
    await exchanger.exchange(auth, { audience: upstream.url });
    expect(as.requestCount('/token') - before).toBe(2);
  });

  it('a refused exchange is a typed error naming the OAuth error, never the token, and is not cached', async () => {
    const forged = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.';
    const exchanger = exchangerWith({ method: 'client_secret_basic', ...basic });
    const before = as.requestCount('/token');
    for (let i = 0; i < 2; i++) {
      const error = await exchanger.exchange({ token: forged }, { audience: upstream.url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamTokenError);
      expect(error).toMatchObject({ code: 'token_request_refused', oauthError: 'invalid_grant', status: 400 });
      expect((error as Error).message).not.toContain(forged);
    }
    expect(as.requestCount('/token') - before).toBe(2);
  });

  it('another client of the AS, not allowed to exchange, is refused (unauthorized_client)', async () => {
    const auth = await incoming();
    const outsider = await registerClient(as, { grant_types: ['urn:ietf:params:oauth:grant-type:token-exchange'], token_endpoint_auth_method: 'client_secret_basic' });
    const error = await exchangerWith({ method: 'client_secret_basic', clientId: outsider.client_id, clientSecret: outsider.client_secret! })
      .exchange(auth, { audience: upstream.url })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'token_request_refused', oauthError: 'unauthorized_client' });
  });

  it('configuration mistakes fail at construction or call with a ConfigurationError', async () => {
    // http: only on loopback hosts (as token-verification), or anywhere with allowInsecureHttp.
    expect(() => createTokenExchanger({ issuer: 'http://as.example.com', client: { method: 'client_secret_basic', ...basic } })).toThrow(
      expect.objectContaining({ name: 'ConfigurationError', code: 'ERR_INSECURE_URL' }),
    );
    expect(() => createTokenExchanger({ issuer: as.issuer, client: { method: 'client_secret_basic', ...basic } })).not.toThrow();
    expect(() => createTokenExchanger({ issuer: as.issuer, allowInsecureHttp: true, client: { method: 'client_secret_basic', clientId: 'x', clientSecret: '' } })).toThrow(
      expect.objectContaining({ code: 'ERR_MISSING_OPTION' }),
    );
    const exchanger = exchangerWith({ method: 'client_secret_basic', ...basic });
    await expect(exchanger.exchange({ token: 'x' }, { audience: '' })).rejects.toMatchObject({ code: 'ERR_MISSING_OPTION' });
  });
});
