/**
 * A bounded cache in front of any verifier: repeated verifications of one token skip the
 * signature check (or the introspection call) until the token expires.
 */
import { answerFromMemory, verifierTrust, type AuthInfo, type TokenVerifier, type VerifyContext } from './auth-info.js';
import { clockFrom, positiveNumber, type CurrentDate } from './configuration.js';
import { ConfigurationError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';
import type { createJwtVerifier } from './jwt-verifier.js';
import { assertPresent, freezeAuthInfo, withToken } from './claims.js';
import { ExpiringLru, tokenHash } from './lru-cache.js';
import { abortable, SingleFlight } from './single-flight.js';

/** Options for {@link cacheVerifiedTokens}. */
export interface VerifiedTokenCacheOptions {
  /** Most results kept (S3-FIFO eviction: tokens in repeated use outlast one-off ones). Default 10000. */
  readonly maxEntries?: number;
  /** Longest a result is reused, in seconds, however long the token lives. Default 300. */
  readonly maxTtl?: number;
  /** The current time (tests). Default: the wall clock. */
  readonly currentDate?: CurrentDate;
}

const CACHE_OPTIONS: KnownOptions<VerifiedTokenCacheOptions> = { maxEntries: true, maxTtl: true, currentDate: true };

/**
 * Wraps a verifier with a cache of successful results, keyed by a SHA-256 of the token (the raw
 * token is never stored, S-22) and kept until the earlier of `expiresAt` (`exp`) and `maxTtl`.
 * Failures are never cached. Concurrent verifications of one token share one inner call.
 *
 * For any verifier (introspection, a custom one): it knows nothing of keys, so a cached result
 * stands until it expires or `maxTtl` passes even if the key that signed a JWT leaves the JWKS.
 * For JWTs use {@link createJwtVerifier}'s own cache (on by default) instead, which drops a
 * cached token once its key is no longer in the JWKS; wrapping that verifier in this one would
 * bring the trade-off back.
 *
 * @example const verify = cacheVerifiedTokens(myCustomVerifier, { maxEntries: 5000 });
 */
export function cacheVerifiedTokens(verifier: TokenVerifier, options: VerifiedTokenCacheOptions = {}): TokenVerifier {
  if (typeof verifier !== 'function') throw new ConfigurationError('ERR_INVALID_OPTIONS', '"verifier" must be a verifier function');
  assertKnownOptions(options, CACHE_OPTIONS, 'cacheVerifiedTokens()');
  const cache = new ExpiringLru<Omit<AuthInfo, 'token'>>(positiveNumber(options.maxEntries, 'maxEntries', 10_000, { integer: true }));
  const maxTtl = positiveNumber(options.maxTtl, 'maxTtl', 300);
  const now = clockFrom(options.currentDate);
  const flight = new SingleFlight<Omit<AuthInfo, 'token'>>();

  /** The cached answer for `token`. */
  const fromCache = (token: string, key: string): AuthInfo | undefined => {
    const hit = cache.get(key, now());
    return hit === undefined ? undefined : withToken(hit, token);
  };
  const cached = async (token: string, context?: VerifyContext): Promise<AuthInfo> => {
    assertPresent(token);
    const key = tokenHash(token);
    const hit = fromCache(token, key);
    if (hit) return hit;
    const info = await abortable(
      flight.run(key, async () => {
        // The inner call is shared: one caller's abort must not fail the others, so it gets no signal.
        const { token: _token, ...fresh } = await verifier(token);
        // Shared by every later hit: a copy of what the inner verifier returned, made immutable.
        const result = freezeAuthInfo({
          ...fresh,
          scopes: [...fresh.scopes],
          claims: structuredClone(fresh.claims),
          // Its top level, not the application's objects inside it (class instances, shared state).
          ...(fresh.extra !== undefined && { extra: Object.freeze({ ...fresh.extra }) }),
        });
        cache.setUntil(key, result, result.expiresAt, now(), maxTtl);
        return result;
      }),
      context?.signal,
    );
    return withToken(info, token);
  };
  // A cached result is answered without a promise (see TokenVerifier); the inner verifier's own
  // answer from memory is not consulted, as this cache stands in front of it.
  return Object.assign(cached, {
    [answerFromMemory]: (token: string): AuthInfo | undefined => {
      assertPresent(token);
      return fromCache(token, tokenHash(token));
    },
    ...(verifier[verifierTrust] !== undefined && { [verifierTrust]: verifier[verifierTrust] }),
  });
}

