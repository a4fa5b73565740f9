/**
 * The node:crypto fast path against `jose.jwtVerify`, on random and mutated tokens: whatever the
 * fast path accepts, jose accepts with the same payload and key; whatever it rejects, jose rejects
 * the same way; what it defers, the verifier hands to jose. And the whole verifier (fast path,
 * deferral, our `iat` check) accepts exactly what jose accepts, with the same claims.
 */
import { describe, expect, it } from '@jest/globals';
import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { createLocalJWKSet, errors, jwtVerify, type JWK, type JWTVerifyOptions } from 'jose';
import { createJwtVerifier, InvalidTokenError } from '../src/index.js';
import { fastJwtVerifier } from '../src/fast-jwt-verify.js';
import type { KeyResolver } from '../src/remote-key-set.js';
import { verificationKeys } from '../src/verification-keys.js';

const ISSUER = 'https://as.portcullis.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';
const OTHER = 'https://other.portcullis.test/mcp';
const NOW = 1_800_000_000;
const currentDate = () => new Date(NOW * 1000);

interface SigningKey {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: KeyObject;
}

function keyPair(alg: string, kid: string, options: { jwkAlg?: boolean; modulusLength?: number } = {}): { key: SigningKey; jwk: JWK } {
  const pair =
    alg.startsWith('ES')
      ? generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg]! })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: options.modulusLength ?? 2048 });
  const jwk: JWK = { ...(pair.publicKey.export({ format: 'jwk' }) as JWK), kid, use: 'sig' };
  if (options.jwkAlg !== false) jwk.alg = alg;
  return { key: { alg, kid, privateKey: pair.privateKey }, jwk };
}

const made = [
  keyPair('ES256', 'es256-a'),
  keyPair('ES256', 'es256-b', { jwkAlg: false }), // a second ES256 key: a token without kid then matches two
  keyPair('ES384', 'es384'),
  keyPair('RS256', 'rs256'),
  keyPair('PS256', 'ps256'),
  keyPair('EdDSA', 'eddsa'),
  keyPair('RS256', 'rs-small', { modulusLength: 1024 }), // jose refuses RSA keys under 2048 bits
];
const signingKeys = made.map((m) => m.key);
const jwks = { keys: made.map((m) => m.jwk) };
const resolver = createLocalJWKSet(jwks);
const verifiableResolver = createLocalJWKSet(verificationKeys(jwks));

const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');

/** Signs `header.payload` (segments as given) with node:crypto as the JWS algorithm `alg` does. */
function signature(alg: string, key: KeyObject, input: string): string {
  const data = Buffer.from(input);
  if (alg === 'EdDSA') return b64(sign(null, data, key));
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('ES')) return b64(sign(hash, data, { key, dsaEncoding: 'ieee-p1363' }));
  if (alg.startsWith('PS')) return b64(sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 }));
  return b64(sign(hash, data, key));
}

/** Mostly the valid value, sometimes one of the others: valid tokens must be common enough to matter. */
const mostly = (valid: unknown, ...others: unknown[]) =>
  fc.oneof({ weight: 5, arbitrary: fc.constant(valid) }, { weight: 1, arbitrary: fc.constantFrom(...others) });

/** `SIGNER` stands for the signing key's own `alg` / `kid`. */
const headerArb = fc.record({
  alg: mostly('SIGNER', 'ES256', 'ES384', 'RS256', 'PS256', 'EdDSA', 'Ed25519', 'RS512', 'HS256', 'none', '', 42),
  kid: mostly('SIGNER', 'es256-a', 'es256-b', 'rs256', 'eddsa', 'rs-small', 'unknown', undefined, 7),
  typ: mostly('at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/AT+JWT', 'JWT', 'jwt', undefined, 1),
  crit: mostly(undefined, ['b64'], ['exp'], [], 'b64', ['']),
  b64: mostly(undefined, true, false),
  jku: mostly(undefined, 'https://evil.test/jwks'),
});

const claimsArb = fc.record({
  iss: mostly(ISSUER, `${ISSUER}/`, 'https://evil.test', undefined, 1),
  aud: mostly(RESOURCE, [OTHER, RESOURCE], [OTHER], OTHER, [1, RESOURCE], [], undefined, { a: RESOURCE }),
  exp: mostly(NOW + 300, NOW - 3, NOW - 5, NOW - 6, NOW, undefined, '9999999999', null, 1e400),
  nbf: mostly(undefined, NOW + 3, NOW + 5, NOW + 6, 'x'),
  iat: mostly(NOW, undefined, NOW + 3, NOW + 100, '1'),
  sub: mostly('user-1', undefined, ''),
  client_id: mostly('client-1', undefined, 7),
  jti: mostly('j1', undefined),
  scope: mostly('a b', undefined, 'mcp:tools'),
});

/** Raw segment contents that are not a plain JSON object in well-formed UTF-8. */
const oddJson = fc.constantFrom(
  Buffer.from('[]'),
  Buffer.from('"x"'),
  Buffer.from('null'),
  Buffer.from('{"a":'),
  Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')]), // BOM
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), // {"a":"\xff"}
);

/** Ways to damage a compact token after signing. */
const mutationArb = fc.oneof(
  { weight: 16, arbitrary: fc.constant('none' as const) },
  fc.record({ kind: fc.constantFrom('flip' as const), segment: fc.integer({ min: 0, max: 2 }), at: fc.nat() }),
  fc.record({ kind: fc.constantFrom('insert' as const), segment: fc.integer({ min: 0, max: 2 }), at: fc.nat(), text: fc.constantFrom('=', '==', ' ', '+', '/', '.', '\n', 'é', '%') }),
  fc.record({ kind: fc.constantFrom('truncate' as const), segment: fc.integer({ min: 0, max: 2 }), by: fc.integer({ min: 1, max: 3 }) }),
  fc.constantFrom('other-signature' as const, 'empty-signature' as const, 'fourth-segment' as const, 'two-segments' as const),
);

type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

function mutate(token: string, mutation: Mutation, other: string): string {
  const parts = token.split('.');
  if (mutation === 'none') return token;
  if (mutation === 'other-signature') return `${parts[0]}.${parts[1]}.${other.split('.')[2]}`;
  if (mutation === 'empty-signature') return `${parts[0]}.${parts[1]}.`;
  if (mutation === 'fourth-segment') return `${token}.${parts[2]}`;
  if (mutation === 'two-segments') return `${parts[0]}.${parts[1]}`;
  const segment = parts[mutation.segment]!;
  if (mutation.kind === 'flip') {
    const at = mutation.at % segment.length;
    const c = segment[at]!;
    parts[mutation.segment] = segment.slice(0, at) + (c === 'A' ? 'B' : 'A') + segment.slice(at + 1);
  } else if (mutation.kind === 'insert') {
    const at = mutation.at % (segment.length + 1);
    parts[mutation.segment] = segment.slice(0, at) + mutation.text + segment.slice(at);
  } else {
    parts[mutation.segment] = segment.slice(0, Math.max(0, segment.length - mutation.by));
  }
  return parts.join('.');
}

const caseArb = fc.record({
  signer: fc.integer({ min: 0, max: signingKeys.length - 1 }),
  header: headerArb,
  claims: claimsArb,
  rawHeader: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: oddJson }),
  rawPayload: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: oddJson }),
  mutation: mutationArb,
  strict: fc.boolean(),
  nonCanonicalTail: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

type Outcome = { ok: true; payload: unknown } | { ok: false; error: string };

async function outcome(run: () => Promise<{ payload: unknown }>): Promise<Outcome> {
  try {
    return { ok: true, payload: (await run()).payload };
  } catch (error) {
    return { ok: false, error: (error as Error).constructor.name };
  }
}

function tokenFor(c: fc.Arbitrary<unknown> extends never ? never : typeof caseArb extends fc.Arbitrary<infer C> ? C : never): string {
  const key = signingKeys[c.signer]!;
  const header = Object.fromEntries(
    Object.entries({ ...c.header, alg: c.header.alg === 'SIGNER' ? key.alg : c.header.alg, kid: c.header.kid === 'SIGNER' ? key.kid : c.header.kid }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  const claims = Object.fromEntries(Object.entries(c.claims).filter(([, v]) => v !== undefined));
  const encodedHeader = b64(c.rawHeader ?? JSON.stringify(header));
  let encodedPayload = b64(c.rawPayload ?? JSON.stringify(claims).replace('1e+400', '1e400'));
  if (c.nonCanonicalTail && encodedPayload.length % 4 !== 0) {
    // Same bytes, different spelling: non-zero unused bits in the last character.
    const last = encodedPayload.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    encodedPayload = encodedPayload.slice(0, -1) + alphabet[(alphabet.indexOf(last) + 1) % 64];
  }
  const input = `${encodedHeader}.${encodedPayload}`;
  const token = `${input}.${signature(key.alg, key.privateKey, input)}`;
  const other = `${input}.${signature(key.alg, key.privateKey, `${input}x`)}`;
  return mutate(token, c.mutation, other);
}

function optionsFor(strict: boolean): JWTVerifyOptions {
  return {
    issuer: ISSUER,
    audience: [RESOURCE],
    algorithms: ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA', 'Ed25519'],
    clockTolerance: 5,
    requiredClaims: strict ? ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'] : ['exp'],
    currentDate: currentDate(),
    ...(strict ? { typ: 'at+jwt' } : {}),
  };
}

describe('fastJwtVerifier against jose.jwtVerify (differential)', () => {
  it('accepts only what jose accepts (same payload, same key), rejects as jose does, and defers the rest', async () => {
    let accepted = 0;
    let deferred = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const token = tokenFor(c);
        const options = optionsFor(c.strict);
        const fast = fastJwtVerifier(resolver, new Set(options.algorithms), {
          issuer: ISSUER,
          audiences: [RESOURCE],
          clockTolerance: 5,
          requiredClaims: options.requiredClaims!,
          typ: options.typ,
          currentDate,
        });
        const reference = await outcome(() => jwtVerify(token, resolver, options));
        let result: Awaited<ReturnType<typeof fast.verify>>;
        try {
          result = await fast.verify(token);
        } catch (error) {
          expect(reference.ok).toBe(false);
          if (error instanceof InvalidTokenError) expect(reference).toEqual({ ok: false, error: errors.JWSSignatureVerificationFailed.name });
          else expect(reference).toEqual({ ok: false, error: (error as Error).constructor.name });
          return;
        }
        if (result.verified) {
          accepted++;
          expect(reference).toEqual({ ok: true, payload: result.payload });
          const { key } = await jwtVerify(token, resolver, options);
          expect(result.key).toBe(key);
          return;
        }
        deferred++;
        // A deferral with a key: the verifier asks jose with that key, which must decide as jose does.
        if (result.key !== undefined) expect(await outcome(() => jwtVerify(token, result.key!, options))).toEqual(reference);
      }),
      { numRuns: 600 },
    );
    // The property is only meaningful if both branches were exercised.
    expect(accepted).toBeGreaterThan(10);
    expect(deferred).toBeGreaterThan(10);
  });

  it('answers at once under a header it accepted before exactly as jose does, and never under another', async () => {
    let accepted = 0;
    let rejected = 0;
    let deferred = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, fc.boolean(), async (c, versionMoves) => {
        const token = tokenFor(c);
        const options = optionsFor(c.strict);
        let version = {};
        const fast = fastJwtVerifier(
          resolver,
          new Set(options.algorithms),
          { issuer: ISSUER, audiences: [RESOURCE], clockTolerance: 5, requiredClaims: options.requiredClaims!, typ: options.typ, currentDate },
          () => version,
        );
        // A valid token under the same header segment, signed by the case's signer, primes the memo
        // (when that header is one the fast path accepts at all).
        const encodedHeader = token.split('.')[0]!;
        const key = signingKeys[c.signer]!;
        const primerInput = `${encodedHeader}.${b64(JSON.stringify({ iss: ISSUER, aud: RESOURCE, exp: NOW + 300, iat: NOW, sub: 'p', client_id: 'p', jti: 'p' }))}`;
        const primer = `${primerInput}.${signature(key.alg, key.privateKey, primerInput)}`;
        const primed = await fast.verify(primer).then((r) => r.verified, () => false);
        if (versionMoves) version = {}; // the key set was read again: nothing may be answered from before
        const reference = await outcome(() => jwtVerify(token, resolver, options));
        let known: ReturnType<typeof fast.verifyKnown>;
        try {
          known = fast.verifyKnown(token);
        } catch (error) {
          expect(primed && !versionMoves).toBe(true);
          expect(error).toBeInstanceOf(InvalidTokenError);
          expect(reference).toEqual({ ok: false, error: errors.JWSSignatureVerificationFailed.name });
          rejected++;
          return;
        }
        if (known === undefined) return; // the caller goes the async way, checked above
        expect(primed && !versionMoves).toBe(true);
        if (!known.verified) {
          // Deferred with the header's key: jose, given that key, must decide as jose does.
          expect(await outcome(() => jwtVerify(token, known.key!, options))).toEqual(reference);
          deferred++;
          return;
        }
        expect(reference).toEqual({ ok: true, payload: known.payload });
        expect(known.key).toBe((await jwtVerify(token, resolver, options)).key);
        accepted++;
      }),
      { numRuns: 1500 },
    );
    // Each branch must have been exercised. Bad signatures under a known header are the rarest, about
    // 1.5 % of the cases: 1,500 runs give some 20, where 600 runs once gave only 3.
    expect(accepted).toBeGreaterThan(10);
    expect(rejected).toBeGreaterThan(3);
    expect(deferred).toBeGreaterThan(3);
  });

  it('does not tie a key to a key set that was read again while the key was being resolved', async () => {
    let version = {};
    const reReadDuringResolve: KeyResolver = async (header, token) => {
      const key = await resolver(header, token);
      version = {}; // a re-read landed meanwhile: which set the key came from is unknown
      return key;
    };
    const fast = fastJwtVerifier(reReadDuringResolve, new Set(['ES256']), { issuer: ISSUER, audiences: [RESOURCE], clockTolerance: 5, requiredClaims: ['exp'], typ: undefined, currentDate }, () => version);
    const key = signingKeys[0]!;
    const mint = (sub: string) => {
      const input = `${b64(JSON.stringify({ alg: 'ES256', kid: key.kid }))}.${b64(JSON.stringify({ iss: ISSUER, aud: RESOURCE, exp: NOW + 300, sub }))}`;
      return `${input}.${signature('ES256', key.privateKey, input)}`;
    };
    expect((await fast.verify(mint('a'))).verified).toBe(true);
    expect(fast.verifyKnown(mint('b'))).toBeUndefined();
  });

  it('refuses a validly signed token that fails a claim (expired, another audience) with jose\'s error, checking the signature once', async () => {
    const key = signingKeys[0]!;
    const mint = (claims: Record<string, unknown>) => {
      const input = `${b64(JSON.stringify({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' }))}.${b64(JSON.stringify({ iss: ISSUER, aud: RESOURCE, iat: NOW - 600, ...claims }))}`;
      return `${input}.${signature('ES256', key.privateKey, input)}`;
    };
    const expired = mint({ exp: NOW - 60 });
    const elsewhere = mint({ exp: NOW + 300, aud: OTHER });
    // jose checks signatures through WebCrypto; the fast path through node:crypto. Counting
    // WebCrypto verifications tells whether the signature was checked a second time.
    const subtle = globalThis.crypto.subtle;
    const original = subtle.verify;
    let webCryptoChecks = 0;
    subtle.verify = (...args: Parameters<typeof original>) => {
      webCryptoChecks++;
      return original.apply(subtle, args);
    };
    try {
      // The counter sees jose's own verification of the same token.
      const joseVerdict = await jwtVerify(expired, resolver, { issuer: ISSUER, audience: RESOURCE, currentDate: currentDate() }).catch((error: unknown) => error);
      expect(joseVerdict).toBeInstanceOf(errors.JWTExpired);
      expect(webCryptoChecks).toBe(1);
      webCryptoChecks = 0;

      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, currentDate, jwks, cache: false });
      const refusals = async () => {
        const refused = await verify(expired).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(InvalidTokenError);
        expect((refused as Error).message).toBe('The access token has expired');
        expect((refused as Error).cause).toBeInstanceOf(errors.JWTExpired);
        const misdirected = await verify(elsewhere).catch((error: unknown) => error);
        expect(misdirected).toBeInstanceOf(InvalidTokenError);
        expect(((misdirected as Error).cause as errors.JWTClaimValidationFailed).claim).toBe('aud');
      };
      await refusals(); // under a header not yet accepted: the key is looked up first
      await verify(mint({ exp: NOW + 300 })); // a valid token under the same header...
      await refusals(); // ...after which tokens under it are checked on the key in hand
      expect(webCryptoChecks).toBe(0);
    } finally {
      subtle.verify = original;
    }
  });

  it('the whole verifier accepts exactly what jose accepts, with the same claims', async () => {
    const verifiers = {
      loose: createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks, algorithms: ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA', 'Ed25519'], currentDate, cache: false }),
      strict: createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks, algorithms: ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA', 'Ed25519'], currentDate, cache: false, requireRfc9068: true }),
    };
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const token = tokenFor(c);
        // The verifier's key set leaves out what cannot verify (S-15: the too-small RSA key): jose on that set.
        const reference = await outcome(() => jwtVerify(token, verifiableResolver, optionsFor(c.strict)));
        const referenceMessage = await jwtVerify(token, verifiableResolver, optionsFor(c.strict)).then(() => undefined, (e: Error) => e.message);
        // Our one check beyond jose: `iat` must not be in the future.
        const expected =
          reference.ok && typeof (reference.payload as { iat?: unknown }).iat === 'number' && (reference.payload as { iat: number }).iat > NOW + 5
            ? { ok: false }
            : { ok: reference.ok };
        let actual: { ok: boolean; claims?: unknown };
        try {
          const info = await verifiers[c.strict ? 'strict' : 'loose'](token);
          actual = { ok: true, claims: info.claims };
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidTokenError);
          // Where jose's verdict was asked for (it is the cause), it is the one jwtVerify gives,
          // also when only jose's claim checks ran on a signature the fast path had verified.
          const cause = (error as Error).cause;
          if (reference.ok === false && cause instanceof errors.JOSEError) {
            expect(cause.constructor.name).toBe(reference.error);
            expect(cause.message).toBe(referenceMessage);
          }
          actual = { ok: false };
        }
        expect(actual.ok).toBe(expected.ok);
        if (actual.ok && reference.ok) expect(actual.claims).toEqual(reference.payload);
      }),
      { numRuns: 400 },
    );
  });
});
