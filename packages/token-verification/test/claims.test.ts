import { describe, expect, it } from '@jest/globals';
import { createTestKey, mintAccessToken } from '@portcullis/test-fixtures';
import { cacheVerifiedTokens, createJwtVerifier, InvalidTokenError, type AuthInfo } from '../src/index.js';
import { checkResponse } from '../src/introspection-verifier.js';
import { rejection } from './support.js';

const ISSUER = 'https://issuer.portcullis.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';
const claims = { iss: ISSUER, aud: RESOURCE, sub: 'alice', client_id: 'app', scope: 'mcp:tools' };

async function localVerifier(options: { acceptSenderConstrained?: boolean } = {}) {
  const key = await createTestKey('ES256');
  const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [key.publicJwk] }, ...options });
  return { key, verify };
}

describe('sender-constrained tokens (cnf) presented as Bearer tokens', () => {
  it('S-10 S-24: a DPoP- or mTLS-bound JWT is refused as a plain Bearer token (RFC 9449 §7.2, RFC 8705 §3)', async () => {
    const { key, verify } = await localVerifier();
    for (const cnf of [{ jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' }, { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' }]) {
      const error = await rejection(verify(await mintAccessToken(key, { ...claims, cnf })), InvalidTokenError, { status: 401, code: 'invalid_token' });
      expect(error.message).toMatch(/bound to a key/);
    }
  });

  it('is accepted only when the caller says it checks the proof itself (acceptSenderConstrained)', async () => {
    const { key, verify } = await localVerifier({ acceptSenderConstrained: true });
    await expect(verify(await mintAccessToken(key, { ...claims, cnf: { jkt: 'x' } }))).resolves.toMatchObject({ subject: 'alice' });
  });

  it('introspection: an active response with cnf is refused the same way, unless accepted', () => {
    const context = { audiences: [RESOURCE], issuer: undefined, now: 1_000, clockTolerance: 5, readScopes: () => ['mcp:tools'] };
    const response = { active: true, aud: RESOURCE, exp: 2_000, cnf: { jkt: 'x' } };
    expect(() => checkResponse(response, context)).toThrow(InvalidTokenError);
    expect(checkResponse(response, { ...context, acceptSenderConstrained: true }).scopes).toEqual(['mcp:tools']);
  });
});

describe('cached results cannot be changed by a handler (S-22)', () => {
  it('the scopes, claims and resource URL of a cached JWT result cannot be changed', async () => {
    const { key, verify } = await localVerifier();
    const token = await mintAccessToken(key, claims);
    const first = await verify(token);
    expect(() => first.scopes.push('mcp:admin')).toThrow(TypeError);
    expect(() => {
      (first.claims as Record<string, unknown>)['scope'] = 'mcp:admin';
    }).toThrow(TypeError);
    expect(() => {
      first.resource!.pathname = '/elsewhere';
    }).toThrow(TypeError);
    expect(() => {
      (first.resource as { href: string }).href = 'https://evil.example/mcp';
    }).toThrow(TypeError);
    first.resource!.searchParams.set('x', 'y'); // a detached copy
    expect(first.resource).toBeInstanceOf(URL);
    const second = await verify(token);
    expect(second.scopes).toEqual(['mcp:tools']);
    expect(second.claims['scope']).toBe('mcp:tools');
    expect(second.resource!.href).toBe(RESOURCE);
  });

  it('cacheVerifiedTokens keeps its own frozen copy of what the inner verifier returned', async () => {
    const inner: AuthInfo = { token: 't', clientId: 'app', scopes: ['mcp:tools'], claims: { nested: { role: 'user' } }, expiresAt: 4_000_000_000 };
    const verify = cacheVerifiedTokens(async () => inner);
    await verify('t');
    inner.scopes.push('mcp:admin');
    (inner.claims['nested'] as Record<string, string>)['role'] = 'admin';
    const cached = await verify('t');
    expect(cached.scopes).toEqual(['mcp:tools']);
    expect(cached.claims).toEqual({ nested: { role: 'user' } });
    expect(Object.isFrozen(cached.claims['nested'])).toBe(true);
  });
});

describe('isAuthInfo', () => {
  it('recognises an AuthInfo this package made, and nothing narrower', async () => {
    const { cacheVerifiedTokens: cache, isAuthInfo: guard } = await import('../src/index.js');
    const info = await cache(async (token) => ({ token, clientId: 'c', scopes: ['a'], claims: { sub: 'u' }, subject: 'u' }))('opaque');
    expect(guard(info)).toBe(true);
    // The MCP SDK's own AuthInfo has no claims; a string or null is none at all.
    expect(guard({ token: 't', clientId: 'c', scopes: [] })).toBe(false);
    expect(guard({ token: 't', clientId: 'c', scopes: 'a', claims: {} })).toBe(false);
    expect(guard('t')).toBe(false);
    expect(guard(null)).toBe(false);
  });
});
