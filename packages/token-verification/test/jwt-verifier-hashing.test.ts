// What the JWT verifier hashes: the real node:crypto, with its one-shot `hash` wrapped to record
// what it is given (the verifier and the cache run as they are).
import { createRequire } from 'node:module';
import { describe, expect, it, jest } from '@jest/globals';

const realCrypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
const hashed: unknown[] = [];
jest.unstable_mockModule('node:crypto', () => ({
  ...realCrypto,
  default: realCrypto,
  hash: (...args: Parameters<typeof realCrypto.hash>) => {
    hashed.push(args[1]);
    return realCrypto.hash(...args);
  },
}));
const verification = await import('../src/index.js');
const { createTestKey, mintAccessToken } = await import('@portcullis/test-fixtures');

const ISSUER = 'https://as.portcullis.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';
const timesHashed = (token: string) => hashed.filter((input) => input === token).length;

describe('createJwtVerifier: what it hashes', () => {
  it('hashes a token only once the cache may hold it: never on its first verification, once to file it, once per lookup after', async () => {
    const key = await createTestKey('ES256');
    const verify = verification.createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [key.publicJwk] } });
    const others = await Promise.all([1, 2, 3].map((i) => mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: `other-${i}` })));
    for (const other of others) for (let use = 0; use < 3; use++) await verify(other); // a cache that holds tokens
    const token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'u' });

    await verify(token);
    expect(timesHashed(token)).toBe(0); // never seen: the presence filter said absent
    await verify(token);
    expect(timesHashed(token)).toBe(1); // verified again: hashed to be filed
    expect(verify[verification.answerFromMemory]!(token)).toMatchObject({ subject: 'u' });
    expect(timesHashed(token)).toBe(2); // a lookup, answered from the cache
    expect(others.every((other) => timesHashed(other) >= 2)).toBe(true); // the wrapper saw the others' hashes too
  });
});
