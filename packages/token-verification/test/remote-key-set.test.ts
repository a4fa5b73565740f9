// Stale-if-error has a limit: keys fetched before a JWKS outage keep verifying through it, for a day.
import { describe, expect, it } from '@jest/globals';
import { createTestKey, startJwksServer } from '@portcullis/test-fixtures';
import { VerifierUnavailableError } from '../src/index.js';
import { keyFingerprint } from '../src/key-fingerprint.js';
import { remoteKeySet } from '../src/remote-key-set.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('remoteKeySet during an outage', () => {
  it('S-14 known keys verify through an outage for up to a day, then a cached verification stands no more and resolving is a 503', async () => {
    const key = await createTestKey('ES256');
    const jwks = await startJwksServer([key.publicJwk]);
    let offset = 0;
    try {
      const keys = remoteKeySet(new URL(jwks.url), { fetcher: (input, init) => fetch(input, init), timeout: 1000, cooldown: 0, cacheMaxAge: 0, now: () => Date.now() + offset });
      const header = { alg: 'ES256', kid: key.kid };
      const token = { payload: '', signature: '', protected: '' };
      const resolved = await keys.resolve(header, token);
      const fingerprint = keyFingerprint(key.kid, resolved);
      jwks.behaviour = 'error-500';
      offset = DAY_MS - 60_000;
      await expect(keys.resolve(header, token)).resolves.toBeDefined();
      expect(await keys.has(fingerprint)).toBe(true);
      offset = DAY_MS + 60_000;
      await expect(keys.resolve(header, token)).rejects.toBeInstanceOf(VerifierUnavailableError);
      expect(await keys.has(fingerprint)).toBe(false);
      // The endpoint back: the keys verify again.
      jwks.behaviour = 'ok';
      await expect(keys.resolve(header, token)).resolves.toBeDefined();
    } finally {
      await jwks.close();
    }
  });
});
