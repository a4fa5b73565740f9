// What of a JWK Set the JWT verifier uses: members that cannot verify are left out, so a token signed
// with one is a 401, never an error from WebCrypto that reaches an error handler as a 500.
import { describe, expect, it } from '@jest/globals';
import { createTestKey, mintAccessToken, startJwksServer } from '@portcullis/test-fixtures';
import { ConfigurationError, createJwtVerifier, InvalidTokenError } from '../src/index.js';
import { rejection } from './support.js';

const ISSUER = 'https://as.portcullis.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';

describe('the members of a key set that verify', () => {
  it.each([
    ['key_ops ["sign","verify"] (RFC 7517 §4.3 allows the pair)', { key_ops: ['sign', 'verify'] }],
    ['key_ops ["verify","deriveBits"]', { key_ops: ['verify', 'deriveBits'] }],
  ])('S-14 S-15 a member with %s verifies as the public key it is', async (_name, extra) => {
    const key = await createTestKey('ES256');
    const jwks = await startJwksServer([{ ...key.publicJwk, ...extra }]);
    try {
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url });
      const token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'u' });
      await expect(verify(token)).resolves.toMatchObject({ subject: 'u' });
    } finally {
      await jwks.close();
    }
  });

  it.each([
    ['an unreadable private part "d"', { d: 'AAAA' }],
    ['key_ops without "verify"', { key_ops: ['encrypt'] }],
  ])('S-14 S-15 a member with %s is left out: a token signed with it is InvalidTokenError (401)', async (_name, extra) => {
    const key = await createTestKey('ES256');
    const jwks = await startJwksServer([{ ...key.publicJwk, ...extra }]);
    try {
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url });
      const token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'u' });
      await rejection(verify(token), InvalidTokenError, { status: 401, code: 'invalid_token' });
    } finally {
      await jwks.close();
    }
  });

  it('S-14 a local jwks member with key_ops ["sign","verify"] verifies too', async () => {
    const key = await createTestKey('RS256');
    const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [{ ...key.publicJwk, key_ops: ['sign', 'verify'] }] } });
    const token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'u' });
    await expect(verify(token)).resolves.toMatchObject({ subject: 'u' });
  });

  it('a local jwks holding a private key is a ConfigurationError at construction', async () => {
    const key = await createTestKey('ES256');
    expect(() => createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [{ ...key.publicJwk, d: 'AAAA' }] } })).toThrow(ConfigurationError);
  });
});
