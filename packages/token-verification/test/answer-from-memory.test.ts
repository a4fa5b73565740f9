import { randomBytes } from 'node:crypto';
import { getHeapSnapshot } from 'node:v8';
import { describe, expect, it } from '@jest/globals';
import { createTestKey, mintAccessToken } from '@portcullis/test-fixtures';
import { answerFromMemory, createJwtVerifier, InvalidTokenError, VerifierUnavailableError } from '../src/index.js';

const ISSUER = 'https://issuer.portcullis.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';
const claims = { iss: ISSUER, aud: RESOURCE, sub: 'alice', client_id: 'app', scope: 'mcp:tools' };

async function setup(cache?: false) {
  const key = await createTestKey('ES256');
  const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [key.publicJwk] }, ...(cache === false ? { cache } : {}) });
  return { key, verify, remembered: verify[answerFromMemory]! };
}

describe("createJwtVerifier's answer from memory", () => {
  it('knows nothing of a token before its result is filed, then answers with the same AuthInfo as the verifier', async () => {
    const { key, verify, remembered } = await setup();
    const token = await mintAccessToken(key, claims);
    expect(remembered(token)).toBeUndefined();
    await verify(token);
    expect(remembered(token)).toBeUndefined(); // verified once: not filed (see the doorkeeper)
    const verified = await verify(token);
    const fromMemory = remembered(token);
    expect(fromMemory).toEqual(verified);
    expect(fromMemory!.token).toBe(token);
    expect(fromMemory!.resource).toBe(verified.resource); // one shared read-only URL
  });

  it('S-14: refuses what cannot be a JWS on sight, with the same error the verifier gives', async () => {
    const { verify, remembered } = await setup();
    for (const token of ['not-a-jwt', 'a.b', 'a.b.c.d', '']) {
      expect(() => remembered(token)).toThrow(InvalidTokenError);
      await expect(verify(token)).rejects.toThrow(InvalidTokenError);
    }
  });

  it('never answers for a token that failed verification', async () => {
    const { key, verify, remembered } = await setup();
    const expired = await mintAccessToken(key, { ...claims, exp: Math.floor(Date.now() / 1000) - 60 });
    await expect(verify(expired)).rejects.toThrow(InvalidTokenError);
    expect(remembered(expired)).toBeUndefined();
  });

  it('S-22: a miss followed by the verification of another token never files one under the other', async () => {
    const { key, verify, remembered } = await setup();
    const alice = await mintAccessToken(key, claims);
    const bob = await mintAccessToken(key, { ...claims, sub: 'bob' });
    expect(remembered(alice)).toBeUndefined(); // a miss: its hash is kept for the verification that follows
    await verify(bob); // ... but this is another token
    expect((await verify(bob)).subject).toBe('bob');
    expect(remembered(bob)?.subject).toBe('bob');
    expect(remembered(alice)).toBeUndefined(); // alice was never verified: nothing filed under her hash
    await verify(alice);
    expect((await verify(alice)).subject).toBe('alice');
    expect(remembered(alice)?.subject).toBe('alice');
    expect(remembered(bob)?.subject).toBe('bob');
  });

  it('S-22: a token asked about and never verified is not held once the turn is over', async () => {
    const { key, remembered } = await setup();
    // The token's payload is random base64url text kept only as bytes: any string this test held
    // would be in the snapshot it searches.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const payload = Buffer.from(randomBytes(32).map((byte) => alphabet.charCodeAt(byte & 63)));
    // The snapshot of a busy jest worker can be larger than the longest string V8 allows, so its
    // bytes are scanned chunk by chunk, keeping enough of the previous chunk to catch a match across two.
    const holds = (needle: Buffer) =>
      new Promise<boolean>((resolve, reject) => {
        let tail = Buffer.alloc(0);
        let found = false;
        getHeapSnapshot()
          .on('data', (chunk: Buffer) => {
            const bytes = Buffer.concat([tail, chunk]);
            found ||= bytes.includes(needle);
            tail = bytes.subarray(bytes.length - needle.length + 1);
          })
          .on('end', () => resolve(found))
          .on('error', reject);
      });
    // Built here and dropped: after this call only the verifier could still hold the string.
    const ask = async () => {
      const [header, , signature] = (await mintAccessToken(key, claims)).split('.');
      expect(remembered([header, payload.toString('latin1'), signature].join('.'))).toBeUndefined();
    };
    await ask();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await holds(payload)).toBe(false);
  });

  it('leaves a never-seen token under a known header to the verifier, which checks it on the key in hand', async () => {
    const { key, verify, remembered } = await setup();
    await verify(await mintAccessToken(key, claims));
    const carol = await mintAccessToken(key, { ...claims, sub: 'carol', scope: 'mcp:tools mcp:admin' });
    expect(remembered(carol)).toBeUndefined();
    const verified = await verify(carol);
    expect(verified).toMatchObject({ token: carol, subject: 'carol', scopes: ['mcp:tools', 'mcp:admin'] });
    expect(Object.isFrozen(verified.claims)).toBe(true);
  });

  it('S-14: the verifier refuses a bad signature under a known header, and a failed claim with its exact error', async () => {
    const { key, verify, remembered } = await setup();
    const good = await mintAccessToken(key, claims);
    await verify(good);
    const other = await mintAccessToken(key, { ...claims, sub: 'mallory' });
    const forged = `${other.slice(0, other.lastIndexOf('.'))}.${good.slice(good.lastIndexOf('.') + 1)}`;
    expect(remembered(forged)).toBeUndefined();
    await expect(verify(forged)).rejects.toThrow(new InvalidTokenError('The access token signature is invalid'));
    const expired = await mintAccessToken(key, { ...claims, exp: Math.floor(Date.now() / 1000) - 60 });
    expect(remembered(expired)).toBeUndefined();
    await expect(verify(expired)).rejects.toThrow('The access token has expired');
    const elsewhere = await mintAccessToken(key, { ...claims, aud: 'https://other.portcullis.test/mcp' });
    expect(remembered(elsewhere)).toBeUndefined();
    await expect(verify(elsewhere)).rejects.toThrow(/"aud"/);
  });

  it('with the cache off, it remembers no token: it only refuses on sight, and every token is verified', async () => {
    const { key, verify, remembered } = await setup(false);
    const token = await mintAccessToken(key, claims);
    expect(remembered(token)).toBeUndefined();
    const first = await verify(token);
    await verify(token);
    expect(remembered(token)).toBeUndefined();
    expect((await verify(token)).claims).not.toBe(first.claims); // parsed again: nothing kept
    expect(() => remembered('a.b')).toThrow(InvalidTokenError);
    const forged = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect(remembered(forged)).toBeUndefined();
    await expect(verify(forged)).rejects.toThrow(InvalidTokenError);
    const expired = await mintAccessToken(key, { ...claims, exp: Math.floor(Date.now() / 1000) - 60 });
    expect(remembered(expired)).toBeUndefined();
    await expect(verify(expired)).rejects.toThrow('The access token has expired');
  });
});

describe('errors of a refused token carry no stack trace', () => {
  it('400/401/403 errors are stackless and leave Error.stackTraceLimit as it was; 503 keeps its stack', () => {
    const limit = Error.stackTraceLimit;
    const refused = new InvalidTokenError('nope');
    expect(Error.stackTraceLimit).toBe(limit);
    expect(refused.stack).toBe('InvalidTokenError: nope');
    expect(refused.message).toBe('nope');
    const outage = new VerifierUnavailableError('down');
    expect(outage.stack).toMatch(/\n\s+at /);
    expect(new Error('plain').stack).toMatch(/\n\s+at /);
  });
});
