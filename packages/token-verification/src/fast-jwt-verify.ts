/**
 * Internal: the hot path of JWT verification on `node:crypto`, for the common well-formed case
 * only. `jose.jwtVerify` checks signatures through WebCrypto, which costs 15–20 µs more per ES256
 * verification than a synchronous `crypto.verify` on the same key (issue 6). Keys are still found
 * and imported by `jose` (the same resolver, so the same `kid`/`alg`/`use`/`key_ops` selection and
 * the same JWKS refetch and cooldown); claims are checked as `jose`'s `validateClaimsSet` does.
 * A header segment seen on an accepted token keeps its key until the key set is read again, so the
 * next token under that header (the cache-miss path of a busy server) is checked without a key lookup.
 *
 * The contract is one-sided: an accepted token is one `jose.jwtVerify` accepts with the same
 * payload. Whatever this path is not sure about — `crit`, an algorithm or key it does not handle,
 * a header or payload that is not plain JSON, any failed claim — it defers and the caller asks
 * `jose`, which then gives the exact error (for a failed claim under a signature verified here,
 * `jose`'s claim checks alone: see `signed`). The one rejection decided here is a
 * signature that does not verify on a key and algorithm it fully handles. The differential test
 * (test/fast-jwt-verify.test.ts) compares it with `jose.jwtVerify` on random and mutated tokens.
 */
import { constants, KeyObject, verify as cryptoVerify } from 'node:crypto';
import type { CryptoKey, JWSHeaderParameters, JWTPayload } from 'jose';
import { InvalidTokenError } from './errors.js';
import type { KeyResolver } from './remote-key-set.js';

/** The claim checks `jose.jwtVerify` is asked for, in its terms. */
export interface ClaimRules {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly clockTolerance: number;
  readonly requiredClaims: readonly string[];
  /** Expected `typ` (`at+jwt`), or undefined for no check. */
  readonly typ: string | undefined;
  /** The current time, as jose would be given it. */
  readonly currentDate: (() => Date) | undefined;
}

/** A token the fast path accepted. */
export interface FastVerified {
  readonly verified: true;
  readonly payload: JWTPayload;
  readonly header: JWSHeaderParameters;
  readonly key: CryptoKey;
}

/** A token left to jose, with the key already resolved for it, if it got that far. */
export interface FastDeferred {
  readonly verified: false;
  readonly key: CryptoKey | undefined;
  /**
   * Set when the signature verified on `key` and only a claim check failed: jose's claim checks
   * alone then give the error, without a second signature check.
   */
  readonly signed?: { readonly header: JWSHeaderParameters; readonly encodedPayload: string };
}

const DEFER: FastDeferred = Object.freeze({ verified: false, key: undefined });

/** How `node:crypto` verifies each algorithm, and what the WebCrypto key must be (jose's table). */
interface Scheme {
  readonly hash: string | null;
  readonly name: string;
  readonly webCryptoHash?: string;
  readonly namedCurve?: string;
  readonly pssSaltLength?: number;
}
const SCHEMES: Readonly<Record<string, Scheme>> = {
  __proto__: null as never,
  RS256: { hash: 'sha256', name: 'RSASSA-PKCS1-v1_5', webCryptoHash: 'SHA-256' },
  RS384: { hash: 'sha384', name: 'RSASSA-PKCS1-v1_5', webCryptoHash: 'SHA-384' },
  RS512: { hash: 'sha512', name: 'RSASSA-PKCS1-v1_5', webCryptoHash: 'SHA-512' },
  PS256: { hash: 'sha256', name: 'RSA-PSS', webCryptoHash: 'SHA-256', pssSaltLength: 32 },
  PS384: { hash: 'sha384', name: 'RSA-PSS', webCryptoHash: 'SHA-384', pssSaltLength: 48 },
  PS512: { hash: 'sha512', name: 'RSA-PSS', webCryptoHash: 'SHA-512', pssSaltLength: 64 },
  ES256: { hash: 'sha256', name: 'ECDSA', namedCurve: 'P-256' },
  ES384: { hash: 'sha384', name: 'ECDSA', namedCurve: 'P-384' },
  ES512: { hash: 'sha512', name: 'ECDSA', namedCurve: 'P-521' },
  EdDSA: { hash: null, name: 'Ed25519' },
  Ed25519: { hash: null, name: 'Ed25519' },
};

/** Three non-empty segments of the base64url alphabet, nothing else (no padding, no whitespace). */
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
// jose decodes header and payload with a fatal UTF-8 decoder (BOM stripped); so do we.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A header already seen on a token this path accepted: its key, resolved once per key-set version. */
interface KnownSigner {
  /** The key set the key was resolved from (see `keySetVersion`). */
  readonly version: unknown;
  readonly header: JWSHeaderParameters;
  readonly scheme: Scheme;
  readonly key: CryptoKey;
  readonly keyObject: KeyObject;
}

/** Distinct headers remembered: an issuer signs with a handful (one per `kid` and `typ`). */
const MAX_KNOWN_HEADERS = 16;

/** The fast path: `verify` resolves the key as jose would; `verifyKnown` answers at once when it can. */
export interface FastJwtVerifier {
  /**
   * The verified payload, header and key; or a deferral to `jose` (with the key it resolved, so jose
   * need not resolve it again); or a rejection (`InvalidTokenError` for a bad signature, or
   * whatever the key resolver throws, exactly as it would throw inside `jose.jwtVerify`).
   */
  verify(token: string): Promise<FastVerified | FastDeferred>;
  /**
   * The same answer as `verify`, synchronously, for a token whose header segment is one this path
   * accepted before, while the key set it was resolved from is current; `undefined` otherwise. No
   * promise, no key lookup: the cache-miss path of a server.
   */
  verifyKnown(token: string): FastVerified | FastDeferred | undefined;
}

/**
 * The fast path over `resolve`. `keySetVersion` names the key set as currently usable without a
 * re-read (an object that changes when the JWKS is fetched again), or `undefined` while it is due
 * for a re-read: a header's key is reused only under the version it was resolved from.
 */
export function fastJwtVerifier(
  resolve: KeyResolver,
  algorithms: ReadonlySet<string>,
  rules: ClaimRules,
  keySetVersion: () => unknown = () => undefined,
): FastJwtVerifier {
  const keyObjects = new WeakMap<CryptoKey, KeyObject | null>();
  const knownHeaders = new Map<string, KnownSigner>();

  const keyObjectFor = (key: CryptoKey, scheme: Scheme): KeyObject | null => {
    let keyObject = keyObjects.get(key);
    if (keyObject === undefined) {
      keyObject = usable(key, scheme) ? KeyObject.from(key as Parameters<typeof KeyObject.from>[0]) : null;
      keyObjects.set(key, keyObject);
    }
    return keyObject;
  };

  /**
   * Signature, then claims, on a key in hand: verified; a deferral whose signature verified but a
   * claim did not; `undefined` to defer outright; or a throw for a bad signature.
   */
  const check = (
    token: string,
    parts: Segments,
    header: JWSHeaderParameters,
    scheme: Scheme,
    key: CryptoKey,
    keyObject: KeyObject,
  ): FastVerified | FastDeferred | undefined => {
    const signingInput = Buffer.from(token.slice(0, parts.second), 'latin1');
    const signature = Buffer.from(parts.encodedSignature, 'base64url');
    let valid: boolean;
    try {
      valid = cryptoVerify(scheme.hash, signingInput, verifyKey(keyObject, scheme), signature);
    } catch {
      return undefined; // node:crypto refused the input outright: let jose decide
    }
    if (!valid) throw new InvalidTokenError('The access token signature is invalid');
    const payload = parseObject(parts.encodedPayload) as JWTPayload | undefined;
    if (payload === undefined) return undefined;
    if (!claimsPass(header, payload, rules)) return { verified: false, key, signed: { header, encodedPayload: parts.encodedPayload } };
    return { verified: true, payload, header, key };
  };

  return {
    async verify(token) {
      const parts = segments(token);
      if (parts === undefined) return DEFER;
      const header = parseObject(parts.encodedHeader) as JWSHeaderParameters | undefined;
      if (header === undefined || header.crit !== undefined) return DEFER;
      const { alg } = header;
      if (typeof alg !== 'string' || !algorithms.has(alg)) return DEFER;
      const scheme = SCHEMES[alg];
      if (scheme === undefined) return DEFER;

      // The same call, with the same header, that jose makes once it has checked what we checked.
      const before = keySetVersion();
      const key = await resolve(header, { payload: parts.encodedPayload, protected: parts.encodedHeader, signature: parts.encodedSignature });
      // The key is tied to a version only if no re-read landed while it was being resolved.
      const version = keySetVersion() === before ? before : undefined;
      const keyObject = keyObjectFor(key, scheme);
      if (keyObject === null) return { verified: false, key };
      const verified = check(token, parts, header, scheme, key, keyObject);
      if (verified === undefined) return { verified: false, key };
      if (!verified.verified) return verified;
      // Remembered only once a token signed under this header has passed every check, so what fills
      // this map is what the issuer signed, not what a client made up.
      if (version !== undefined && knownHeaders.get(parts.encodedHeader)?.version !== version) {
        if (knownHeaders.size >= MAX_KNOWN_HEADERS) knownHeaders.clear();
        knownHeaders.set(parts.encodedHeader, { version, header: Object.freeze(header), scheme, key, keyObject });
      }
      return verified;
    },

    verifyKnown(token) {
      const parts = segments(token);
      if (parts === undefined) return undefined;
      const signer = knownHeaders.get(parts.encodedHeader);
      if (signer === undefined) return undefined;
      if (signer.version !== keySetVersion()) {
        knownHeaders.delete(parts.encodedHeader); // re-resolved by the next `verify` under the new key set
        return undefined;
      }
      return check(token, parts, signer.header, signer.scheme, signer.key, signer.keyObject) ?? { verified: false, key: signer.key };
    },
  };
}

/** The three segments of a compact JWS, or undefined when jose's decoder would throw on one. */
interface Segments {
  readonly encodedHeader: string;
  readonly encodedPayload: string;
  readonly encodedSignature: string;
  /** Index of the second dot: the signing input is everything before it. */
  readonly second: number;
}

function segments(token: string): Segments | undefined {
  if (!COMPACT.test(token)) return undefined;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  const encodedHeader = token.slice(0, first);
  const encodedPayload = token.slice(first + 1, second);
  const encodedSignature = token.slice(second + 1);
  // A length of 4n+1 is not base64 at all: jose's decoder throws.
  if (encodedHeader.length % 4 === 1 || encodedPayload.length % 4 === 1 || encodedSignature.length % 4 === 1) return undefined;
  return { encodedHeader, encodedPayload, encodedSignature, second };
}

/** jose's `checkCryptoKey` and `minRsaBits`, as a yes/no: a key jose would refuse goes to jose. */
function usable(key: CryptoKey, scheme: Scheme): boolean {
  const algorithm = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string; modulusLength?: number };
  if (key.type !== 'public' || algorithm.name !== scheme.name || !key.usages.includes('verify')) return false;
  if (scheme.webCryptoHash !== undefined && (algorithm.hash?.name !== scheme.webCryptoHash || !((algorithm.modulusLength ?? 0) >= 2048))) return false;
  if (scheme.namedCurve !== undefined && algorithm.namedCurve !== scheme.namedCurve) return false;
  return true;
}

function verifyKey(key: KeyObject, scheme: Scheme) {
  if (scheme.namedCurve !== undefined) return { key, dsaEncoding: 'ieee-p1363' as const }; // JWS uses r||s (RFC 7518 §3.4)
  if (scheme.pssSaltLength !== undefined) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.pssSaltLength };
  return key;
}

/** A base64url segment holding a JSON object, or undefined (jose would refuse it, or we are unsure). */
function parseObject(segment: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    return undefined; // not UTF-8 or not JSON: jose says which
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** `jose`'s `validateClaimsSet` for our options, as a yes/no (a "no" goes to jose for the error). */
function claimsPass(header: JWSHeaderParameters, claims: JWTPayload, rules: ClaimRules): boolean {
  if (rules.typ !== undefined && (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== normalizeTyp(rules.typ))) return false;
  for (const claim of rules.requiredClaims) if (!Object.hasOwn(claims, claim)) return false;
  if (!Object.hasOwn(claims, 'aud') || !Object.hasOwn(claims, 'iss')) return false;
  if (claims.iss !== rules.issuer) return false;
  const { aud } = claims;
  if (typeof aud === 'string' ? !rules.audiences.includes(aud) : !Array.isArray(aud) || !rules.audiences.some((a) => aud.includes(a))) return false;
  const now = Math.floor((rules.currentDate === undefined ? Date.now() : rules.currentDate().getTime()) / 1000);
  const { iat, nbf, exp } = claims as Record<string, unknown>;
  if (iat !== undefined && typeof iat !== 'number') return false;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + rules.clockTolerance)) return false;
  if (exp !== undefined && (typeof exp !== 'number' || exp <= now - rules.clockTolerance)) return false;
  return true;
}

function normalizeTyp(value: string): string {
  const normalized = value.toLowerCase();
  return value.includes('/') ? normalized : `application/${normalized}`;
}
