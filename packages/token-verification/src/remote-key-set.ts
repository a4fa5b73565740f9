/**
 * Internal: a JWKS key resolver on `jose`'s `createRemoteJWKSet` (which does the caching, the
 * unknown-`kid` cooldown and single-flight fetching), plus what it does not do: stale-if-error.
 * When a refresh fails, keys already fetched keep verifying, so a JWKS outage does not reject
 * tokens signed by known keys; a key we have never seen cannot be checked, which is a 503.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  jwksCache,
  type CryptoKey,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type JWKSCacheInput,
} from 'jose';
import { unavailableStatus } from './bounded-fetch.js';
import { VerifierUnavailableError } from './errors.js';
import { jwkFingerprints } from './key-fingerprint.js';
import { verificationKeys } from './verification-keys.js';

/** Longest the keys of a JWKS that can no longer be fetched keep verifying (stale-if-error). */
const STALE_LIMIT_MS = 24 * 60 * 60 * 1000;

export type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

/**
 * Keys for verification: `resolve` is what `jose` calls; `has` answers whether a key (by the
 * fingerprint from `keyFingerprint`) is in the key set as currently known, so a cached verification
 * is not honoured once its key has left the JWKS.
 */
export interface KeySet {
  readonly resolve: KeyResolver;
  readonly has: (fingerprint: string) => boolean | Promise<boolean>;
  /**
   * The key set as fetched (a new object at every fetch) while it is fresh, else `undefined`: a key
   * resolved under one version stands, without another lookup, as long as the version is current.
   */
  readonly version: () => unknown;
}

export interface RemoteKeySetOptions {
  readonly fetcher: (input: string, init?: RequestInit) => Promise<Response>;
  readonly timeout: number;
  readonly cooldown: number;
  readonly cacheMaxAge: number;
  readonly now: () => number; // milliseconds, wall clock (jose's cache runs on Date.now)
}

export function remoteKeySet(url: URL, options: RemoteKeySetOptions): KeySet {
  const cache: JWKSCacheInput = {};
  const remote = createRemoteJWKSet(url, {
    timeoutDuration: options.timeout,
    cooldownDuration: options.cooldown,
    cacheMaxAge: options.cacheMaxAge,
    [jwksCache]: cache,
    // jose checks for 200 and parses JSON; we add the size limit, the timeout mapping and the shape
    // check so every upstream failure is a VerifierUnavailableError, never a key error.
    [customFetch]: async (input, init) => {
      const response = await options.fetcher(input, init);
      if (response.status !== 200) throw unavailableStatus(response, 'JWKS endpoint');
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (cause) {
        throw new VerifierUnavailableError('The JWKS endpoint answered with invalid JSON', { cause });
      }
      if (!isJwkSet(json)) throw new VerifierUnavailableError('The JWKS endpoint answered with something that is not a JWK Set');
      const usable = verificationKeys(json);
      const body = usable === json ? text : JSON.stringify(usable);
      return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
    },
  });

  let stale: { uat: number; resolve: ReturnType<typeof createLocalJWKSet> } | undefined;
  let failedAt = -Infinity;
  // What jose's cache holds once a fetch succeeded: the key set and when it was fetched.
  const cached = cache as { jwks?: JSONWebKeySet; uat?: number };

  // Keys fetched before an outage keep verifying through it, but not for ever: a key the issuer has
  // since withdrawn (compromised, say) must stop working even if its JWKS stays out of reach.
  const tooStale = (): boolean => cached.uat !== undefined && options.now() - cached.uat > STALE_LIMIT_MS;

  const fromStale = async (header: JWSHeaderParameters, token: FlattenedJWSInput, cause: unknown): Promise<CryptoKey> => {
    const known = cached.jwks !== undefined && cached.uat !== undefined ? { jwks: cached.jwks, uat: cached.uat } : undefined;
    if (!known) throw cause;
    if (tooStale()) throw new VerifierUnavailableError('The JWKS endpoint has failed for over a day: the keys fetched before it did are no longer used', { cause });
    if (stale?.uat !== known.uat) stale = { uat: known.uat, resolve: createLocalJWKSet(known.jwks) };
    try {
      return await stale.resolve(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) {
        throw new VerifierUnavailableError('The signing key is not among the keys known so far and the JWKS cannot be refreshed', { cause });
      }
      throw error;
    }
  };

  const resolve: KeyResolver = async (header, token) => {
    // Right after a failed refresh, answer from the known keys instead of waiting on the outage
    // again for every request; after the cooldown, try the endpoint again.
    if ('jwks' in cache && options.now() - failedAt < options.cooldown) {
      return fromStale(header, token, new VerifierUnavailableError('The JWKS endpoint failed recently'));
    }
    try {
      return await remote(header, token);
    } catch (error) {
      if (!(error instanceof VerifierUnavailableError)) throw error;
      failedAt = options.now();
      return fromStale(header, token, error);
    }
  };

  let fingerprinted: { jwks: unknown; fingerprints: ReadonlySet<string> } | undefined;
  const known = (fingerprint: string): boolean => {
    const jwks = (cache as { jwks?: unknown }).jwks;
    if (jwks === undefined) return false;
    if (fingerprinted?.jwks !== jwks) fingerprinted = { jwks, fingerprints: jwkFingerprints(jwks as JSONWebKeySet) };
    return fingerprinted.fingerprints.has(fingerprint);
  };
  const has = (fingerprint: string): boolean | Promise<boolean> => {
    // Cached verifications never call `resolve`, so they re-read a stale key set here, and wait for
    // it as jose does before verifying: a key removed from the JWKS ends its cached tokens as soon as
    // the verifier could know. A failed re-read keeps the known keys (stale-if-error) for the cooldown.
    if (!remote.fresh && options.now() - failedAt >= options.cooldown) {
      return remote.reload().then(
        () => known(fingerprint),
        () => {
          failedAt = options.now();
          return !tooStale() && known(fingerprint);
        },
      );
    }
    return (remote.fresh || !tooStale()) && known(fingerprint);
  };
  const version = (): unknown => (remote.fresh ? (cache as { jwks?: unknown }).jwks : undefined);
  return { resolve, has, version };
}

function isJwkSet(value: unknown): value is JSONWebKeySet {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { keys?: unknown }).keys) &&
    (value as { keys: unknown[] }).keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k))
  );
}
