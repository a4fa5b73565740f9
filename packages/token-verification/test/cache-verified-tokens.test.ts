import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestKey, mintAccessToken, startJwksServer, type JwksServer, type TestKey } from '@portcullis/test-fixtures';
import { answerFromMemory, cacheVerifiedTokens, ConfigurationError, createJwtVerifier, InvalidTokenError, type AuthInfo, type TokenVerifier } from '../src/index.js';
import { rejection } from './support.js';

const ISSUER = 'https://as.portcullis.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';

describe('cacheVerifiedTokens', () => {
  let key: TestKey;
  let jwks: JwksServer;
  beforeAll(async () => {
    key = await createTestKey('ES256');
    jwks = await startJwksServer([key.publicJwk]);
  });
  afterAll(() => jwks.close());

  /**
   * A real JWT verifier that caches neither keys (cacheMaxAge 0, cooldown 0) nor results (its own
   * cache off): every verification fetches the JWKS once, so jwks.requests counts real verifications.
   */
  const counted = (): TokenVerifier =>
    createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, cacheMaxAge: 0, cooldown: 0, cache: false });

  it('reuses a verified result until exp, then verifies again (and rejects the expired token)', async () => {
    const exp = Math.floor(Date.now() / 1000) + 120;
    const token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, client_id: 'c', scope: 'a b', exp });
    let clock = Date.now();
    const inner = counted();
    const verify = cacheVerifiedTokens(inner, { currentDate: () => new Date(clock) });
    const first = await verify(token);
    const before = jwks.requests;
    const second = await verify(token);
    expect(second).toEqual(first);
    expect(second).toMatchObject({ token, clientId: 'c', scopes: ['a', 'b'], expiresAt: exp, resource: new URL(RESOURCE) });
    expect(jwks.requests).toBe(before);
    clock = (exp + 1) * 1000;
    // The cache entry has expired: the inner verifier runs again (its own clock is real time, so it still accepts).
    await verify(token);
    expect(jwks.requests).toBe(before + 1);
  });

  it('honours maxTtl and maxEntries, and shares one inner call between concurrent verifications', async () => {
    let clock = Date.now();
    const verify = cacheVerifiedTokens(counted(), { maxTtl: 10, maxEntries: 2, currentDate: () => new Date(clock) });
    const tokens = await Promise.all([1, 2, 3].map((n) => mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: `u${n}` })));
    const start = jwks.requests;
    await Promise.all(Array.from({ length: 20 }, () => verify(tokens[0]!)));
    expect(jwks.requests).toBe(start + 1);
    clock += 11_000;
    await verify(tokens[0]!);
    expect(jwks.requests).toBe(start + 2);
    await verify(tokens[1]!);
    await verify(tokens[2]!); // a third token in a cache of two: one of the three is evicted
    await verify(tokens[2]!);
    expect(jwks.requests).toBe(start + 4);
    for (const token of tokens) await verify(token!);
    expect(jwks.requests).toBeGreaterThan(start + 4);
  });

  it('answers a cached token from memory, and nothing else', async () => {
    let calls = 0;
    const inner = async (token: string): Promise<AuthInfo> => {
      calls++;
      if (token !== 'good') throw new InvalidTokenError('no');
      return { token, clientId: 'app', scopes: ['mcp:tools'], claims: {}, expiresAt: 4_000_000_000 };
    };
    const verify = cacheVerifiedTokens(inner);
    const remembered = verify[answerFromMemory]!;
    expect(remembered('good')).toBeUndefined();
    await verify('good');
    await rejection(verify('bad'), InvalidTokenError, { status: 401 });
    expect(remembered('good')).toMatchObject({ token: 'good', clientId: 'app' });
    expect(remembered('bad')).toBeUndefined();
    expect(calls).toBe(2);
  });

  it('never caches a failure', async () => {
    const verify = cacheVerifiedTokens(counted());
    const wrong = await mintAccessToken(key, { iss: ISSUER, aud: 'https://other.test' });
    const start = jwks.requests;
    await rejection(verify(wrong), InvalidTokenError, { status: 401 });
    await rejection(verify(wrong), InvalidTokenError, { status: 401 });
    expect(jwks.requests).toBe(start + 2);
  });

  it('rejects bad options', () => {
    expect(() => cacheVerifiedTokens('x' as never)).toThrow(ConfigurationError);
    expect(() => cacheVerifiedTokens(counted(), { maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => cacheVerifiedTokens(counted(), { maxTtl: -1 })).toThrow(/maxTtl/);
  });
});

describe('cacheVerifiedTokens: what a handler can change', () => {
  it('a handler cannot add, replace or remove a field of extra for the next hit of the same token', async () => {
    const inner = async (token: string): Promise<AuthInfo> => ({ token, clientId: 'c', scopes: ['read'], claims: {}, extra: { roles: ['user'] } });
    const verify = cacheVerifiedTokens(inner);
    const first = await verify('opaque-token');
    expect(() => Object.assign(first.extra!, { roles: ['admin'] })).toThrow(/read only/);
    expect(() => Object.assign(first.extra!, { admin: true })).toThrow(/not extensible/);
    expect((await verify('opaque-token')).extra).toEqual({ roles: ['user'] });
  });

  it("the application's own objects in extra are shared as the verifier returned them, never frozen", async () => {
    const session = { id: 's1', seen: 0 };
    const greet = () => 'hi';
    const verify = cacheVerifiedTokens(async (token) => ({ token, clientId: 'c', scopes: [], claims: {}, extra: { session, greet } }));
    const info = await verify('opaque-token');
    expect(info.extra?.['session']).toBe(session);
    expect(info.extra?.['greet']).toBe(greet);
    expect(Object.isFrozen(session)).toBe(false);
  });
});

/** An application's own class, carried in `extra`. */
class Account {
  constructor(readonly name: string, readonly roles: readonly string[]) {}
  can(role: string): boolean {
    return this.roles.includes(role);
  }
}

describe('cacheVerifiedTokens and the application\'s extra', () => {
  // A copy by structuredClone would keep a class instance's data but not its prototype: its methods.
  it('a class instance in extra keeps its methods through the cache', async () => {
    const inner = async (token: string): Promise<AuthInfo> => ({ token, clientId: 'c', scopes: [], claims: {}, extra: { account: new Account('alice', ['admin']) } });
    const info = await cacheVerifiedTokens(inner)('opaque-token');
    expect((info.extra!['account'] as Account).can('admin')).toBe(true);
  });

  // Objects the application shares with the rest of its code (a session, a per-tenant counter) stay writable.
  it('the application\'s own objects in extra are not frozen', async () => {
    const tenant = { id: 't1', requests: 0 };
    const inner = async (token: string): Promise<AuthInfo> => ({ token, clientId: 'c', scopes: [], claims: {}, extra: { tenant, audit: () => undefined } });
    await cacheVerifiedTokens(inner)('opaque-token');
    expect(Object.isFrozen(tenant)).toBe(false);
    expect(() => tenant.requests++).not.toThrow();
  });
});
