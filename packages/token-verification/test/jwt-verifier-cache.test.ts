import { describe, expect, it } from '@jest/globals';
import { createTestKey, mintAccessToken, startJwksServer } from '@portcullis/test-fixtures';
import { answerFromMemory, ConfigurationError, createJwtVerifier, InvalidTokenError } from '../src/index.js';
import { rejection } from './support.js';

const ISSUER = 'https://as.portcullis.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';

describe('createJwtVerifier: the verified-token cache', () => {
  it('reuses a verified result (same AuthInfo, no further JWKS work) until exp, then verifies again', async () => {
    const key = await createTestKey('ES256');
    const jwks = await startJwksServer([key.publicJwk]);
    try {
      let clock = Date.now();
      const exp = Math.floor(clock / 1000) + 120;
      const token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, client_id: 'c', scope: 'a b', exp });
      // cacheMaxAge 0 and cooldown 0: any verification that reaches the key set fetches the JWKS.
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, cacheMaxAge: 0, cooldown: 0, currentDate: () => new Date(clock) });
      await verify(token);
      const first = await verify(token); // verified the second time: filed
      const fetched = jwks.requests;
      const second = await verify(token);
      expect(second).toEqual(first);
      expect(second.claims).toBe(first.claims); // the cached result itself
      expect(second).toMatchObject({ token, clientId: 'c', scopes: ['a', 'b'], expiresAt: exp, resource: new URL(RESOURCE) });
      // The hit itself did not verify; it only nudged a refresh of the stale key set (cacheMaxAge 0).
      expect(jwks.requests).toBeLessThanOrEqual(fetched + 1);
      clock = (exp + 10) * 1000;
      await rejection(verify(token), InvalidTokenError, { status: 401 });
    } finally {
      await jwks.close();
    }
  });

  it('files a result when its token is verified the second time, so a one-off token never enters the cache', async () => {
    const key = await createTestKey('ES256');
    const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [key.publicJwk] } });
    const token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'u' });
    // A cached result hands out its one frozen claims object; a verification parses a new one.
    const first = await verify(token);
    const second = await verify(token);
    expect(second.claims).not.toBe(first.claims); // verified again: the first result was not filed
    const third = await verify(token);
    expect(third.claims).toBe(second.claims); // from the cache: filed on the second verification
    expect(verify[answerFromMemory]!(token)!.claims).toBe(second.claims);
    expect(Object.isFrozen(first.claims) && Object.isFrozen(third.claims)).toBe(true); // alike either way
  });

  it.each([
    ['filed, never hit', 2],
    // A hit confirms its key in the current key set and is not looked for again while that set is
    // current (confirmedIn): the set read after the rotation is another, so the key is looked for.
    ['filed and already hit (its key confirmed in the key set of the time)', 3],
  ])('a cached token, %s, is refused (401) once its key has been rotated out of the JWKS and the JWKS refreshed', async (_name, uses) => {
    const old = await createTestKey('ES256');
    const next = await createTestKey('ES256');
    const jwks = await startJwksServer([old.publicJwk]);
    try {
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, cooldown: 0 });
      const oldToken = await mintAccessToken(old, { iss: ISSUER, aud: RESOURCE, sub: 'u' });
      for (let i = 0; i < uses; i++) await verify(oldToken); // filed on the second verification
      if (uses > 2) expect(verify[answerFromMemory]!(oldToken)).toBeDefined();

      jwks.keys = [next.publicJwk];
      // A token signed by the new key names an unknown kid: the JWKS is fetched again.
      const before = jwks.requests;
      await verify(await mintAccessToken(next, { iss: ISSUER, aud: RESOURCE, sub: 'u' }));
      expect(jwks.requests).toBeGreaterThan(before);

      const error = await rejection(verify(oldToken), InvalidTokenError, { status: 401, code: 'invalid_token' });
      expect(error.message).toMatch(/No known key/);
    } finally {
      await jwks.close();
    }
  });

  it('verifies a never-seen token under a known header without fetching, and refuses it once the JWKS read again lacks its key', async () => {
    const old = await createTestKey('ES256');
    const next = await createTestKey('ES256');
    const jwks = await startJwksServer([old.publicJwk]);
    try {
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, cooldown: 0 });
      const now = verify[answerFromMemory]!;
      const mint = (key: typeof old, sub: string) => mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub });
      await verify(await mint(old, 'first')); // fetches the JWKS
      await verify(await mint(old, 'second')); // resolved under the JWKS as fetched: the header is now known
      const fetched = jwks.requests;
      const third = await mint(old, 'third');
      expect(now(third)).toBeUndefined(); // never seen: not answered from memory
      expect(await verify(third)).toMatchObject({ subject: 'third' });
      expect(jwks.requests).toBe(fetched);

      jwks.keys = [next.publicJwk];
      await verify(await mint(next, 'rotated')); // an unknown kid: the JWKS is read again, without the old key
      const late = await mint(old, 'late');
      expect(now(late)).toBeUndefined();
      const error = await rejection(verify(late), InvalidTokenError, { status: 401 });
      expect(error.message).toMatch(/No known key/);
    } finally {
      await jwks.close();
    }
  });

  it('keeps a cached token while its key stays in the refreshed JWKS (the same key re-served, another key added)', async () => {
    const key = await createTestKey('RS256');
    const added = await createTestKey('ES256');
    const jwks = await startJwksServer([key.publicJwk]);
    try {
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, cooldown: 0 });
      const token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'u' });
      await verify(token);
      const cached = await verify(token); // verified the second time: filed
      jwks.keys = [added.publicJwk, { ...key.publicJwk }];
      await verify(await mintAccessToken(added, { iss: ISSUER, aud: RESOURCE, sub: 'u' })); // unknown kid → refresh
      const requests = jwks.requests;
      const after = await verify(token);
      expect(after).toMatchObject({ subject: 'u' });
      expect(after.claims).toBe(cached.claims); // served from the cache
      expect(jwks.requests).toBe(requests); // no refetch
    } finally {
      await jwks.close();
    }
  });

  it.each([[undefined], [false as const]])('a caller that aborts stops waiting (cache %s); a failure no one waits for raises no unhandled rejection', async (cache) => {
    const key = await createTestKey('ES256');
    const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [key.publicJwk] }, ...(cache === false ? { cache } : {}) });
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const wrongAudience = await mintAccessToken(key, { iss: ISSUER, aud: 'https://other.portcullis.test/mcp', sub: 'u' });
      await expect(verify(wrongAudience, { signal: AbortSignal.abort(new Error('gone before')) })).rejects.toThrow('gone before');
      const controller = new AbortController();
      const later = verify(await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'u' }), { signal: controller.signal });
      controller.abort(new Error('gone while waiting'));
      await expect(later).rejects.toThrow('gone while waiting');
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('with cache: false every call verifies; failures are never cached; bad cache options fail at construction', async () => {
    const key = await createTestKey('ES256');
    const jwks = await startJwksServer([key.publicJwk]);
    try {
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, cacheMaxAge: 0, cooldown: 0, cache: false });
      const token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE });
      await verify(token);
      await verify(token);
      expect(jwks.requests).toBe(2);
      const cached = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, cacheMaxAge: 0, cooldown: 0 });
      const wrong = await mintAccessToken(key, { iss: ISSUER, aud: 'https://other.test' });
      await rejection(cached(wrong), InvalidTokenError, { status: 401 });
      const afterFirst = jwks.requests;
      await rejection(cached(wrong), InvalidTokenError, { status: 401 });
      expect(jwks.requests).toBe(afterFirst + 1);
    } finally {
      await jwks.close();
    }
    const base = { issuer: ISSUER, audience: RESOURCE, jwks: { keys: [] } };
    expect(() => createJwtVerifier({ ...base, cache: { maxEntries: 0 } })).toThrow(ConfigurationError);
    expect(() => createJwtVerifier({ ...base, cache: { maxTtl: -1 } })).toThrow(/cache\.maxTtl/);
    expect(() => createJwtVerifier({ ...base, cache: 'yes' as never })).toThrow(/"cache"/);
  });

  it('S-10 S-14 a forged token with a cached token\'s tag (same length, same signature end) never shares its verification or its cached result', async () => {
    const key = await createTestKey('ES256');
    const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [key.publicJwk] } });
    const genuine = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'alice' });
    // Another payload of the same length under the genuine signature: the tag (length and last 16
    // characters, whatever the seed) is the genuine token's.
    const [header, payload, signature] = genuine.split('.') as [string, string, string];
    const claims = Buffer.from(payload, 'base64url').toString().replace('"sub":"alice"', '"sub":"admin"');
    const forged = `${header}.${Buffer.from(claims).toString('base64url')}.${signature}`;
    expect(forged).toHaveLength(genuine.length);
    expect(forged).not.toBe(genuine);

    // Concurrent first uses, in both orders: one single flight per tag, but never shared between the two.
    for (const order of [[genuine, forged], [forged, genuine]]) {
      const outcomes = await Promise.allSettled(order.map((token) => verify(token)));
      const byToken = new Map(order.map((token, i) => [token, outcomes[i]!]));
      expect(byToken.get(genuine)).toMatchObject({ status: 'fulfilled', value: { subject: 'alice' } });
      expect(byToken.get(forged)).toMatchObject({ status: 'rejected', reason: expect.any(InvalidTokenError) });
    }
    // The genuine token is filed now (verified twice): the forged one still gets no answer from memory,
    // and is refused when verified, alone or next to a hit.
    expect(verify[answerFromMemory]!(genuine)).toMatchObject({ subject: 'alice' });
    expect(verify[answerFromMemory]!(forged)).toBeUndefined();
    await rejection(verify(forged), InvalidTokenError, { status: 401 });
    const [hit, refused] = await Promise.allSettled([verify(genuine), verify(forged)]);
    expect(hit).toMatchObject({ status: 'fulfilled', value: { subject: 'alice', token: genuine } });
    expect(refused).toMatchObject({ status: 'rejected', reason: expect.any(InvalidTokenError) });
  });

  it('answers every token it holds from memory, through evictions and rebuilds of its presence filter', async () => {
    const key = await createTestKey('ES256');
    const capacity = 50;
    const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [key.publicJwk] }, cache: { maxEntries: capacity } });
    const tokens = await Promise.all(Array.from({ length: 3 * capacity }, (_, i) => mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: `u${i}` })));
    for (const token of tokens) {
      await verify(token);
      await verify(token); // filed on its second verification (evicting another once full)
    }
    // Full, and nothing expires: exactly `capacity` of them are held, and each one held must be
    // answered from memory; a filter that lost one would answer fewer.
    const answered = tokens.filter((token) => verify[answerFromMemory]!(token) !== undefined);
    expect(answered).toHaveLength(capacity);
    // And one never filed is not.
    expect(verify[answerFromMemory]!(await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'new' }))).toBeUndefined();
  });

  it('refuses what is not three dot-separated parts before any key work', async () => {
    const jwks = await startJwksServer([]);
    try {
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url });
      for (const token of ['not-a-jwt', 'a.b', 'a.b.c.d', 'a.b.c.']) {
        const error = await rejection(verify(token), InvalidTokenError, { status: 401, code: 'invalid_token' });
        expect(error.message).toBe('The access token is malformed: Invalid Compact JWS');
      }
      expect(jwks.requests).toBe(0);
    } finally {
      await jwks.close();
    }
  });
});

describe('createJwtVerifier cache: a hit that waits for its key set', () => {
  it('S-14 RFC 7519 §4.1.4: a cached token that expires while its key set is re-read is refused, not answered from the cache', async () => {
    const key = await createTestKey('ES256');
    let clock = Date.now();
    const exp = Math.floor(clock / 1000) + 60;
    let expireDuringFetch = false;
    const fetch = (async () => {
      if (expireDuringFetch) clock = (exp + 30) * 1000; // the JWKS answers 30 s after the token expired
      return Response.json({ keys: [key.publicJwk] });
    }) as unknown as typeof globalThis.fetch;
    const verify = createJwtVerifier({
      issuer: 'https://as.portcullis.test',
      audience: 'https://mcp.portcullis.test/mcp',
      jwksUri: 'https://as.portcullis.test/jwks',
      fetch,
      cacheMaxAge: 0, // the key set is due for a re-read at every hit
      cooldown: 0,
      clockTolerance: 0,
      currentDate: () => new Date(clock),
    });
    const token = await mintAccessToken(key, { iss: 'https://as.portcullis.test', aud: 'https://mcp.portcullis.test/mcp', sub: 'u', exp });
    await verify(token);
    await verify(token); // filed on the second verification
    expireDuringFetch = true;
    await rejection(verify(token), InvalidTokenError);
  });
});
