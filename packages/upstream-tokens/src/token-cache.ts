import { createHash } from 'node:crypto';
import { assertKnownOptions, ConfigurationError, type KnownOptions } from '@portcullis/token-verification';

/** An access token for an upstream API. */
export interface UpstreamToken {
  /** The access token. Never log it. */
  readonly accessToken: string;
  /** `Bearer` (the only type this package hands out). */
  readonly tokenType: 'Bearer';
  /** Expiry in seconds since the epoch, when the AS said (`expires_in`). */
  readonly expiresAt?: number;
  /** The granted scope, when the AS said. */
  readonly scope?: string;
}

/** Cache options of {@link createTokenExchanger} and {@link createClientCredentialsSource}. */
export interface TokenCacheOptions {
  /** Most tokens kept (a positive integer); the least recently used goes first. Default 1000. */
  readonly maxEntries?: number;
  /** A token is renewed this many seconds (finite, ≥ 0) before it expires. Default 30. */
  readonly skewSeconds?: number;
}

/**
 * A bounded LRU of tokens until their expiry (minus skew), with single-flight per key: concurrent
 * misses for one key share one request. Keys are SHA-256 digests, so no raw token is ever a key.
 * Tokens without `expires_in` are not cached (their lifetime is unknown).
 */
export interface TokenCache {
  get(key: string, load: () => Promise<UpstreamToken>): Promise<UpstreamToken>;
}

/** SHA-256 over the parts, each length-prefixed so that no two tuples collide. */
export function cacheKey(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:${part}\n`);
  return hash.digest('base64url');
}

const CACHE_OPTIONS: KnownOptions<TokenCacheOptions> = { maxEntries: true, skewSeconds: true };

/** `factory` names the option in a {@link ConfigurationError}: a bad bound or skew fails at construction, not at the first lookup. */
export function createTokenCache(options: TokenCacheOptions | false, now: () => number, factory = 'createTokenCache()'): TokenCache {
  assertKnownOptions(options, CACHE_OPTIONS, `${factory} cache`);
  const inFlight = new Map<string, Promise<UpstreamToken>>();
  if (options === false) {
    return {
      get(key, load) {
        let flight = inFlight.get(key);
        if (!flight) {
          flight = load().finally(() => inFlight.delete(key));
          inFlight.set(key, flight);
        }
        return flight;
      },
    };
  }
  const maxEntries = options.maxEntries ?? 1000;
  const skewSeconds = options.skewSeconds ?? 30;
  // NaN would never evict (size > NaN is false) and a negative skew would serve expired tokens.
  if (!Number.isSafeInteger(maxEntries) || maxEntries <= 0) throw new ConfigurationError('ERR_INVALID_OPTIONS', `${factory}: cache.maxEntries must be a positive integer`);
  if (typeof skewSeconds !== 'number' || !Number.isFinite(skewSeconds) || skewSeconds < 0) throw new ConfigurationError('ERR_INVALID_OPTIONS', `${factory}: cache.skewSeconds must be a finite number ≥ 0`);
  const skewMs = skewSeconds * 1000;
  // A Map keeps insertion order: re-inserting on a hit makes the first key the least recently used.
  const entries = new Map<string, UpstreamToken & { readonly expiresAt: number }>();
  return {
    get(key, load) {
      const hit = entries.get(key);
      if (hit) {
        entries.delete(key);
        if (hit.expiresAt * 1000 - skewMs > now()) {
          entries.set(key, hit);
          return Promise.resolve(hit);
        }
      }
      let flight = inFlight.get(key);
      if (!flight) {
        flight = load()
          .then((token) => {
            if (token.expiresAt !== undefined && token.expiresAt * 1000 - skewMs > now()) {
              entries.set(key, token as UpstreamToken & { expiresAt: number });
              while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
            }
            return token;
          })
          .finally(() => inFlight.delete(key));
        inFlight.set(key, flight);
      }
      return flight;
    },
  };
}
