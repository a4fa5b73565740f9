/**
 * JWT access-token verification (RFC 9068, RFC 7519, RFC 8725) on `jose`.
 */
import { createLocalJWKSet, errors, jwtVerify, UnsecuredJWT, type CryptoKey, type JSONWebKeySet, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { answerFromMemory, verifierTrust, type AuthInfo, type TokenVerifier, type VerifierTrust, type VerifyContext } from './auth-info.js';
import { discoverMetadata, metadataEndpoint } from './authorization-server-metadata.js';
import { boundedFetch } from './bounded-fetch.js';
import { assertNotSenderConstrained, assertPresent, freezeAuthInfo, matchAudience, verifiedInfo, withTokenFromOwnResult } from './claims.js';
import {
  clockFrom,
  endpointUrl,
  fetchOption,
  identifier,
  identifiers,
  positiveNumber,
  type CurrentDate,
} from './configuration.js';
import { CachePresence, tokenTagger } from './cache-presence.js';
import { checkPhase } from './check-phase.js';
import { ConfigurationError, InvalidTokenError, VerifierUnavailableError } from './errors.js';
import { Doorkeeper } from './doorkeeper.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';
import { fastJwtVerifier, type FastDeferred } from './fast-jwt-verify.js';
import { keyFingerprint } from './key-fingerprint.js';
import { ExpiringLru, tokenHash } from './lru-cache.js';
import { remoteKeySet, type KeyResolver, type KeySet } from './remote-key-set.js';
import { abortable, SingleFlight } from './single-flight.js';
import { scopeReader, type ScopeClaims } from './scopes.js';
import { hasPrivateMembers, verificationKeys } from './verification-keys.js';

/** Asymmetric JWS algorithms accepted by default (RFC 7518 §3, RFC 8037). */
export const ASYMMETRIC_ALGORITHMS = Object.freeze([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
] as const);
/** HMAC algorithms, accepted only with an explicit `secret`. */
export const HMAC_ALGORITHMS = Object.freeze(['HS256', 'HS384', 'HS512'] as const);

/** A JWS algorithm this package can be configured to accept. `none` is not one of them. */
export type JwtAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number] | 'Ed25519' | (typeof HMAC_ALGORITHMS)[number];

const KNOWN_ALGORITHMS = new Set<string>([...ASYMMETRIC_ALGORITHMS, 'Ed25519', ...HMAC_ALGORITHMS]);
const HMAC = new Set<string>(HMAC_ALGORITHMS);

/** Options shared by every key source of {@link createJwtVerifier}. */
export interface JwtVerifierBaseOptions {
  /** The issuer identifier; the `iss` claim must be identical (RFC 9068 §4). Required. */
  readonly issuer: string | URL;
  /**
   * The resource indicator(s) of this server (RFC 8707): `aud` must contain one of them
   * (RFC 9068 §4, S-11). The one that matched becomes `AuthInfo.resource`. Required: there is no
   * safe default.
   */
  readonly audience: string | URL | readonly (string | URL)[];
  /**
   * Accepted `alg` values. Default: every asymmetric algorithm ({@link ASYMMETRIC_ALGORITHMS}); with
   * `secret`, default and only allowed values are {@link HMAC_ALGORITHMS}. `none` is always rejected.
   */
  readonly algorithms?: readonly JwtAlgorithm[];
  /** Seconds of leeway for `exp`, `nbf` and `iat`. Default 5. */
  readonly clockTolerance?: number;
  /**
   * Strict RFC 9068 mode: header `typ` must be `at+jwt` (or `application/at+jwt`) and the claims
   * `iss`, `exp`, `aud`, `sub`, `client_id`, `iat`, `jti` must be present. Default `false` (many
   * providers issue access tokens without `typ: at+jwt`); `exp` is required either way.
   */
  readonly requireRfc9068?: boolean;
  /** Where scopes are read from. Default `['scope', 'scp']`. See {@link ScopeClaims}. */
  readonly scopeClaims?: ScopeClaims;
  /** `fetch` used for metadata and JWKS requests (tests, egress proxies, SSRF policies). Default global `fetch`. */
  readonly fetch?: typeof fetch;
  /** Milliseconds before a metadata or JWKS request is abandoned (→ 503). Default 5000. */
  readonly timeout?: number;
  /**
   * Milliseconds after a JWKS fetch during which an unknown `kid` does not trigger another fetch;
   * also how long a failed refresh is not retried while known keys are served. Default 30000.
   */
  readonly cooldown?: number;
  /** Milliseconds a fetched JWKS is used before it is refreshed. Default 600000 (10 minutes). */
  readonly cacheMaxAge?: number;
  /** Largest metadata/JWKS response accepted, in bytes. Default 524288 (512 KiB). */
  readonly maxResponseBytes?: number;
  /** Allow `http:` metadata/JWKS URLs on non-loopback hosts. Default `false`: never in production. */
  readonly allowInsecureHttp?: boolean;
  /** The current time for the claim checks (tests). Default: the wall clock. */
  readonly currentDate?: CurrentDate;
  /**
   * The verified-token cache: a token in repeated use skips the signature check. A result is filed
   * when its token is verified the second time, so a one-off token never is (no churn, no garbage)
   * and a token in use is answered from the cache from its third use on, until it expires.
   * `maxEntries` (default 10000; S3-FIFO eviction, so a flood of one-off tokens does not push out the ones in repeated use) and `maxTtl` (seconds a result is
   * reused however long the token lives, default 300); `false` turns it off. Default: on.
   *
   * Unlike {@link cacheVerifiedTokens} around a verifier, this cache knows which key verified each
   * token: a cached result is honoured only while that key (its `kid` and public key) is in the
   * JWKS as last fetched, so a key's removal from the JWKS ends its cached tokens at the next
   * refresh (`cacheMaxAge`, or sooner when a token names an unknown `kid`). Failures are never
   * cached; the raw token is never stored (keys are SHA-256 hashes, S-22).
   */
  readonly cache?: JwtCacheOptions | false;
  /**
   * Accept tokens bound to a key (`cnf`, RFC 9449 DPoP / RFC 8705 mTLS). Default `false`: presented
   * as plain Bearer tokens they are refused; set it only where the proof of possession is checked.
   */
  readonly acceptSenderConstrained?: boolean;
}

/** Bounds of the verified-token cache of {@link createJwtVerifier}. */
export interface JwtCacheOptions {
  /** Most results kept (S3-FIFO eviction: tokens in repeated use outlast one-off ones). Default 10000. */
  readonly maxEntries?: number;
  /** Longest a result is reused, in seconds, however long the token lives. Default 300. */
  readonly maxTtl?: number;
}

/**
 * Where the verification keys come from: exactly one of `jwksUri`, `jwks` or `secret`, or none of
 * them to discover `jwks_uri` from the issuer's RFC 8414 / OIDC metadata.
 */
export type JwtKeySource =
  | { readonly jwksUri: string | URL; readonly jwks?: never; readonly secret?: never }
  | { readonly jwks: JSONWebKeySet; readonly jwksUri?: never; readonly secret?: never }
  | { readonly secret: Uint8Array | string; readonly jwksUri?: never; readonly jwks?: never }
  | { readonly jwksUri?: never; readonly jwks?: never; readonly secret?: never };

/** Options for {@link createJwtVerifier}. */
export type JwtVerifierOptions = JwtVerifierBaseOptions & JwtKeySource;

const JWT_OPTIONS: KnownOptions<JwtVerifierOptions> = {
  issuer: true,
  audience: true,
  algorithms: true,
  clockTolerance: true,
  requireRfc9068: true,
  scopeClaims: true,
  fetch: true,
  timeout: true,
  cooldown: true,
  cacheMaxAge: true,
  maxResponseBytes: true,
  allowInsecureHttp: true,
  currentDate: true,
  cache: true,
  acceptSenderConstrained: true,
  jwksUri: true,
  jwks: true,
  secret: true,
};
const CACHE_OPTIONS: KnownOptions<JwtCacheOptions> = { maxEntries: true, maxTtl: true };

/**
 * Creates a verifier for JWT access tokens (RFC 9068).
 *
 * Checks: the signature with a key from the JWKS (by `kid`/`alg`), against an algorithm allowlist
 * (asymmetric only unless a `secret` is configured; never `none`); `iss` identical to `issuer`;
 * `aud` contains a configured audience (RFC 8707, S-11); `exp` present and in the future, `nbf` and
 * `iat` not in the future, with `clockTolerance`; in strict mode `typ` and the RFC 9068 claims.
 * Never fetches keys named by the token (`jku`, `x5u`) nor trusts an embedded `jwk` (RFC 8725 §3.10).
 *
 * Does not check: scopes (use {@link assertScopes}), revocation (use introspection for that).
 *
 * Failures: `InvalidTokenError` (401) for any bad token; `VerifierUnavailableError` (503) when the
 * metadata or JWKS cannot be fetched and the key is not already known. Keys fetched once keep
 * verifying through a JWKS outage.
 *
 * Performance: successful results are cached (see `cache`) and tied to the key that verified them;
 * concurrent verifications of one token share one check. Well-formed tokens signed with an
 * asymmetric key from the JWKS are checked with `node:crypto` on the key `jose` imported (the
 * same checks, see `fast-jwt-verify.ts`); everything else goes through `jose.jwtVerify`. The
 * signature checks asked for in one turn of the event loop run together in its check phase
 * (`check-phase.ts`): a lone token waits one idle turn.
 *
 * @example
 * const verify = createJwtVerifier({ issuer: 'https://auth.example.com', audience: 'https://mcp.example.com/mcp' });
 * const info = await verify(token); // AuthInfo
 */
export function createJwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('ERR_INVALID_OPTIONS', 'createJwtVerifier needs an options object');
  assertKnownOptions(options, JWT_OPTIONS, 'createJwtVerifier()');
  assertKnownOptions(options.cache, CACHE_OPTIONS, 'createJwtVerifier() cache');
  const issuer = identifier(options.issuer, 'issuer');
  const audiences = identifiers(options.audience, 'audience');
  const allowInsecureHttp = options.allowInsecureHttp === true;
  const clockTolerance = positiveNumber(options.clockTolerance, 'clockTolerance', 5, { allowZero: true });
  const timeout = positiveNumber(options.timeout, 'timeout', 5000, { integer: true });
  const cooldown = positiveNumber(options.cooldown, 'cooldown', 30_000, { allowZero: true });
  const cacheMaxAge = positiveNumber(options.cacheMaxAge, 'cacheMaxAge', 600_000, { allowZero: true });
  const maxResponseBytes = positiveNumber(options.maxResponseBytes, 'maxResponseBytes', 512 * 1024, { integer: true });
  const now = clockFrom(options.currentDate);
  const currentDate = options.currentDate === undefined ? undefined : () => new Date(now() * 1000);
  const readScopes = scopeReader(options.scopeClaims);
  const fetchImpl = fetchOption(options.fetch);
  const fetcher = boundedFetch({ fetch: fetchImpl, timeout, maxResponseBytes, label: 'JWKS endpoint' });
  const metadataFetcher = boundedFetch({ fetch: fetchImpl, timeout, maxResponseBytes, label: 'authorization server metadata' });

  const sources = (['jwksUri', 'jwks', 'secret'] as const).filter((k) => options[k] !== undefined);
  if (sources.length > 1) {
    throw new ConfigurationError('ERR_CONFLICTING_OPTIONS', `Give only one of "jwksUri", "jwks" or "secret", not ${sources.map((s) => `"${s}"`).join(' and ')}`);
  }
  const algorithms = checkAlgorithms(options.algorithms, options.secret !== undefined);
  const cacheOptions = options.cache === undefined ? {} : options.cache;
  if (cacheOptions !== false && (typeof cacheOptions !== 'object' || cacheOptions === null)) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', '"cache" must be { maxEntries?, maxTtl? } or false');
  }
  const cache =
    cacheOptions === false
      ? undefined
      : new ExpiringLru<CachedVerification>(positiveNumber(cacheOptions.maxEntries, 'cache.maxEntries', 10_000, { integer: true }));
  const maxTtl = cacheOptions === false ? 0 : positiveNumber(cacheOptions.maxTtl, 'cache.maxTtl', 300);

  let key: KeyResolver | Uint8Array;
  // Whether a key (by fingerprint) is still in the key set; absent for a static set or a secret.
  let keyStillKnown: KeySet['has'] | undefined;
  // The key set as currently usable without a re-read (see KeySet.version); a static set never changes.
  let keySetVersion: KeySet['version'] = () => STATIC_KEY_SET;
  if (options.secret !== undefined) {
    key = secretBytes(options.secret);
  } else if (options.jwks !== undefined) {
    // A private key given to a verifier is a secret in the wrong place: said at once, not a 401 per token.
    if (Array.isArray(options.jwks.keys) && options.jwks.keys.some(hasPrivateMembers)) {
      throw new ConfigurationError('ERR_INVALID_OPTIONS', '"jwks" holds a private key: give the verifier the public keys only');
    }
    try {
      key = createLocalJWKSet(verificationKeys(options.jwks));
    } catch (cause) {
      throw new ConfigurationError('ERR_INVALID_OPTIONS', `"jwks" must be a JSON Web Key Set ({ keys: [...] }): ${(cause as Error).message}`);
    }
  } else {
    const keySetOptions = { fetcher, timeout, cooldown, cacheMaxAge, now: () => Date.now() };
    const keySet =
      options.jwksUri !== undefined
        ? remoteKeySet(endpointUrl(options.jwksUri, 'jwksUri', allowInsecureHttp), keySetOptions)
        : (endpointUrl(issuer, 'issuer', allowInsecureHttp), // discovery will fetch from it
          discoveredKeySet(issuer, metadataFetcher, allowInsecureHttp, (url) => remoteKeySet(url, keySetOptions)));
    key = keySet.resolve;
    keyStillKnown = keySet.has;
    keySetVersion = keySet.version;
  }

  const strict = options.requireRfc9068 === true;
  const acceptSenderConstrained = options.acceptSenderConstrained === true;
  const verifyOptions: JWTVerifyOptions = {
    issuer,
    audience: audiences,
    algorithms,
    clockTolerance,
    requiredClaims: strict ? ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'] : ['exp'],
    ...(strict ? { typ: 'at+jwt' } : {}),
  };

  const fast =
    typeof key === 'function'
      ? fastJwtVerifier(key, new Set(algorithms), {
          issuer,
          audiences,
          clockTolerance,
          requiredClaims: verifyOptions.requiredClaims!,
          typ: verifyOptions.typ,
          currentDate,
        }, keySetVersion)
      : undefined;

  /**
   * Signature and claims: the node:crypto fast path when it is sure, else jose. `deferred` is the
   * fast path's answer when it already checked this token synchronously and only jose's verdict is missing.
   */
  const verifyToken = async (token: string, deferred?: FastDeferred): Promise<{ payload: JWTPayload; typ: unknown; fingerprint: string | undefined }> => {
    try {
      const options = currentDate ? { ...verifyOptions, currentDate: currentDate() } : verifyOptions;
      if (typeof key !== 'function') {
        const { payload, protectedHeader } = await jwtVerify(token, key, options);
        return { payload, typ: protectedHeader.typ, fingerprint: undefined };
      }
      const fastResult = deferred ?? (await fast!.verify(token));
      if (fastResult.verified) {
        return { payload: fastResult.payload, typ: fastResult.header.typ, fingerprint: keyStillKnown && keyFingerprint(fastResult.header.kid, fastResult.key) };
      }
      if (fastResult.signed) assertClaims(fastResult.signed, options);
      const headerKey = fastResult.key;
      if (headerKey !== undefined) {
        // The key the resolver gave for this very header: what jose would get from it again.
        const { payload, protectedHeader } = await jwtVerify(token, headerKey, options);
        return { payload, typ: protectedHeader.typ, fingerprint: keyStillKnown && keyFingerprint(protectedHeader.kid, headerKey) };
      }
      const result = await jwtVerify(token, key, options);
      return { payload: result.payload, typ: result.protectedHeader.typ, fingerprint: keyStillKnown && keyFingerprint(result.protectedHeader.kid, result.key) };
    } catch (error) {
      throw joseFailure(error);
    }
  };

  const verifyFresh = async (token: string, deferred?: FastDeferred): Promise<CachedVerification> => {
    const { payload, typ, fingerprint } = await verifyToken(token, deferred);
    return afterSignature(payload, typ, fingerprint);
  };

  /** The checks of ours beyond jose's, and the result as cached. */
  const afterSignature = (payload: JWTPayload, typ: unknown, fingerprint: string | undefined): CachedVerification => {
    // Without requireRfc9068 a token need not say what it is, but one that says it is another kind
    // of JWT (RFC 8725 §3.11: a logout token, a signed introspection response…) is not an access token.
    if (typeof typ === 'string' && namesAnotherJwtType(typ)) throw new InvalidTokenError('The token is typed as another kind of JWT ("typ"), not an access token');
    // jose only checks that the time claims are numbers; `1e400` in the JSON parses to Infinity, an
    // `exp` that never expires. RFC 7519 §2 NumericDate is finite: anything else is malformed.
    for (const claim of ['exp', 'nbf', 'iat'] as const) {
      if (payload[claim] !== undefined && !Number.isFinite(payload[claim])) {
        throw new InvalidTokenError(`The access token "${claim}" claim is not a finite NumericDate`);
      }
    }
    // jose checks `iat` only with maxTokenAge; a token issued in the future is not valid yet.
    if (typeof payload['iat'] === 'number' && payload['iat'] > now() + clockTolerance) {
      throw new InvalidTokenError('The access token was issued in the future ("iat")');
    }
    assertNotSenderConstrained(payload, acceptSenderConstrained);
    const info = freezeAuthInfo(verifiedInfo(payload, matchAudience(payload['aud'], audiences)!, readScopes));
    return { info, fingerprint, confirmedIn: undefined, tag: 0 };
  };

  /**
   * A token never seen, signed under a header already verified while its key set is current:
   * checked synchronously on the key in hand (see FastJwtVerifier.verifyKnown), in the check phase.
   * `undefined` for the async path; a deferral (its key in hand) when the signature passed but only
   * jose can say what else failed.
   */
  const verifyNow = (token: string): CachedVerification | FastDeferred | undefined => {
    const known = fast?.verifyKnown(token);
    if (known === undefined || !known.verified) return known;
    return afterSignature(known.payload, known.header.typ, keyStillKnown && keyFingerprint(known.header.kid, known.key));
  };

  /**
   * A token not in the cache, checked in the next check phase with the other tokens of this turn
   * (see check-phase.ts): on the key in hand under a header already verified, else through the
   * key resolver and, for anything the fast path is unsure of, jose.
   */
  const verifyMiss = async (token: string): Promise<CachedVerification> => {
    await checkPhase();
    const checked = verifyNow(token);
    if (checked !== undefined && 'info' in checked) return checked;
    return verifyFresh(token, checked);
  };

  // A result is filed when its token is verified the second time: a one-off token is never filed
  // (see doorkeeper.ts), a token in repeated use is answered from the cache from its third use on.
  const doorkeeper = cache && new Doorkeeper(cache.maxEntries);
  // Which tokens the cache may hold (see cache-presence.ts): a token it cannot hold is not hashed.
  const presence = cache && new CachePresence(cache.maxEntries);
  const tagOf = tokenTagger();
  const refill = (keep: (tag: number) => void): void => cache!.forEachValue((filed) => keep(filed.tag));
  const remember = (token: string, tag: number, hash: string | undefined, result: CachedVerification): void => {
    if (!doorkeeper!.seenBefore(tag)) return;
    presence!.add(tag, refill); // before the result is filed: "absent" is never wrong
    result.tag = tag;
    cache!.setUntil(hash ?? tokenHash(token), result, result.info.expiresAt, now(), maxTtl);
  };

  // Keyed by the token's tag, so that a miss needs no hash; shared only by calls with the identical
  // token, which it holds while its verification runs (as `missed` below does for a turn).
  const flight = new SingleFlight<CachedVerification, number>();

  /** The cheap refusals, before any hashing or lookup. */
  const refuseOnSight = (token: string): void => {
    assertPresent(token);
    // What cannot be a JWS at all (jose's own first check, without its exception and our wrapping of it).
    if (!isCompactShape(token)) throw new InvalidTokenError('The access token is malformed: Invalid Compact JWS');
  };
  /**
   * A cached result stands only while the key that verified it is still in the key set: `true`,
   * `false`, or a promise while a stale key set is re-read. Once found in a key set, it is not
   * looked for again until the key set changes or is due for a re-read (every hit pays this check).
   */
  const stillKnown = (hit: CachedVerification): boolean | Promise<boolean> => {
    if (hit.fingerprint === undefined || keyStillKnown === undefined) return true;
    const version = keySetVersion();
    if (version !== undefined && hit.confirmedIn === version) return true;
    const known = keyStillKnown(hit.fingerprint);
    // A current version means no re-read was due, so `known` was answered from that very key set.
    if (known === true && version !== undefined) hit.confirmedIn = version;
    return known;
  };

  // What the answer from memory learnt of a token it could not settle, for the verification its
  // caller starts at once: its tag, its hash if the cache may hold it (at most one SHA-256 per miss,
  // none for a token never filed: a native call that costs several µs on a loaded server) and a
  // cached result waiting on a re-read of the key set. Held until the next call of the verifier or
  // the end of this turn, whichever comes first: it holds the raw token (S-22), and a caller may
  // never go on to verify (bearer-auth refuses a malformed one instead).
  let missed: Unsettled | undefined;
  const forget = (): void => {
    missed = undefined;
  };

  /** Everything that needs no waiting: the answer, a throw, or `undefined` with what it learnt in `missed`. */
  const answerNow = (token: string): AuthInfo | undefined => {
    missed = undefined;
    refuseOnSight(token);
    const tag = cache === undefined ? 0 : tagOf(token);
    const hash = cache !== undefined && presence!.mayHold(tag) ? tokenHash(token) : undefined;
    const hit = hash === undefined ? undefined : cache!.get(hash, now());
    const known = hit === undefined ? false : stillKnown(hit);
    if (known === true) return withTokenFromOwnResult(hit!.info, token);
    missed = { token, tag, hash, hit, known };
    SETTLED.then(forget);
    return undefined;
  };

  const verifier = async (token: string, context?: VerifyContext): Promise<AuthInfo> => {
    let unsettled = missed?.token === token ? missed : undefined;
    if (unsettled === undefined) {
      const answer = answerNow(token);
      if (answer !== undefined) return answer;
      unsettled = missed!;
    }
    missed = undefined;
    const { tag, hash, hit } = unsettled;
    // A hit whose key set was due for a re-read: it stands if its key is still there, as jose waits
    // too, and if it is still in the cache after the wait, which may have outlasted the token's `exp`.
    if (hit !== undefined && (await unsettled.known) && cache!.get(hash!, now()) === hit) return withTokenFromOwnResult(hit.info, token);
    if (cache === undefined) return withTokenFromOwnResult((await abortable(verifyMiss(token), context?.signal)).info, token);
    const verified = await abortable(
      // Shared by concurrent callers: one caller's abort must not fail the others, so no signal inside.
      flight.run(
        tag,
        async () => {
          const result = await verifyMiss(token);
          remember(token, tag, hash, result);
          return result;
        },
        token,
      ),
      context?.signal,
    );
    return withTokenFromOwnResult(verified.info, token);
  };
  // Synchronous answers for middleware (see TokenVerifier): a hit without a promise, a malformed
  // token refused without a rejection. Everything else waits for the check phase (see verifyMiss).
  return Object.assign(verifier, { [answerFromMemory]: answerNow, [verifierTrust]: { issuer, audiences } satisfies VerifierTrust });
}

/** A token the answer from memory could not settle, and what it learnt of it (see `missed`). */
interface Unsettled {
  readonly token: string;
  /** Its tag (cache-presence.ts); 0 without a cache. */
  readonly tag: number;
  /** Its SHA-256, when the cache may hold it (otherwise not computed). */
  readonly hash: string | undefined;
  readonly hit: CachedVerification | undefined;
  /** For a hit: whether its key is still in the key set (`false`, or a re-read under way). */
  readonly known: boolean | Promise<boolean>;
}

/**
 * A settled promise: `.then(f)` runs `f` with this turn's microtasks, without the AsyncResource that
 * Node's queueMicrotask() makes for every call.
 */
const SETTLED = Promise.resolve();

/** The `version` of a key set given as a static `jwks`: it never changes. */
const STATIC_KEY_SET = {};

/** One verified token as cached: its AuthInfo without the token, and the key that verified it. */
interface CachedVerification {
  readonly info: Omit<AuthInfo, 'token'>;
  readonly fingerprint: string | undefined;
  /** The key-set version (see KeySet.version) in which `fingerprint` was last found. */
  confirmedIn: unknown;
  /** The token's tag (cache-presence.ts), set when filed: the presence filter is rebuilt from these. */
  tag: number;
}

/** Exactly three dot-separated parts: the least a compact JWS is (RFC 7515 §7.1). */
function isCompactShape(token: string): boolean {
  const first = token.indexOf('.');
  if (first === -1) return false;
  const second = token.indexOf('.', first + 1);
  return second !== -1 && token.indexOf('.', second + 1) === -1;
}

function checkAlgorithms(option: readonly string[] | undefined, hasSecret: boolean): string[] {
  if (option === undefined) return [...(hasSecret ? HMAC_ALGORITHMS : ASYMMETRIC_ALGORITHMS)];
  if (!Array.isArray(option) || option.length === 0) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', '"algorithms" must be a non-empty array of JWS algorithm names');
  }
  for (const alg of option) {
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') {
      throw new ConfigurationError('ERR_INSECURE_ALGORITHM', '"algorithms" must not contain "none": unsigned tokens are never accepted');
    }
    if (!KNOWN_ALGORITHMS.has(alg)) throw new ConfigurationError('ERR_INVALID_OPTIONS', `"algorithms" contains an unknown algorithm ${JSON.stringify(alg)}`);
    // Mixing HMAC with public keys is the algorithm-confusion attack (RFC 8725 §2.1, §3.1): a public
    // key must never be usable as an HMAC secret, so HMAC needs its own verifier and its own secret.
    if (HMAC.has(alg) && !hasSecret) {
      throw new ConfigurationError('ERR_INSECURE_ALGORITHM', `"algorithms" contains ${alg}, which needs the "secret" option (and then only HS* algorithms)`);
    }
    if (!HMAC.has(alg) && hasSecret) {
      throw new ConfigurationError('ERR_INSECURE_ALGORITHM', `"algorithms" contains ${alg}, but with "secret" only HS256, HS384 or HS512 are allowed`);
    }
  }
  return [...new Set(option)];
}

function secretBytes(secret: Uint8Array | string): Uint8Array {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < 32) {
    throw new ConfigurationError('ERR_WEAK_SECRET', '"secret" must be at least 32 bytes (RFC 7518 §3.2)');
  }
  return bytes;
}

function discoveredKeySet(
  issuer: string,
  fetcher: (input: string, init?: RequestInit) => Promise<Response>,
  allowInsecureHttp: boolean,
  create: (url: URL) => KeySet,
): KeySet {
  let pending: Promise<KeySet> | undefined;
  let created: KeySet | undefined;
  const resolver = async () => {
    const metadata = await discoverMetadata(issuer, fetcher);
    const jwksUri = metadataEndpoint(metadata, 'jwks_uri', issuer);
    try {
      return (created = create(endpointUrl(jwksUri, 'jwks_uri', allowInsecureHttp)));
    } catch (cause) {
      throw new VerifierUnavailableError(`The metadata of ${issuer} names an unacceptable jwks_uri`, { cause });
    }
  };
  return {
    resolve: async (header, token) => {
      // Discovered once per verifier; a failed discovery is retried by the next verification.
      pending ??= resolver().catch((error: unknown) => {
        pending = undefined;
        throw error;
      });
      return (await pending).resolve(header, token);
    },
    has: (fingerprint) => created?.has(fingerprint) ?? false,
    version: () => created?.version(),
  };
}

/**
 * The claim checks of `jose.jwtVerify` on a token whose signature the fast path verified, without
 * checking it again: an expired or misdirected token, validly signed, would otherwise cost a second
 * verification, through WebCrypto, about three times the first. `UnsecuredJWT.decode` runs jose's
 * own `validateClaimsSet` (the header only lends `typ`), so the error is the one jwtVerify throws.
 * Returns when jose finds nothing wrong: the caller then asks jwtVerify itself.
 */
function assertClaims(signed: NonNullable<FastDeferred['signed']>, options: JWTVerifyOptions): void {
  const header = signed.header.typ === undefined ? { alg: 'none' } : { alg: 'none', typ: signed.header.typ };
  UnsecuredJWT.decode(`${Buffer.from(JSON.stringify(header)).toString('base64url')}.${signed.encodedPayload}.`, options);
}

/**
 * Whether a `typ` names a JWT kind other than an access token: a structured `…+jwt` type (RFC 8725
 * §3.11) that is not `at+jwt` (RFC 9068 §2.1) or a vendor's `…-at+jwt`. `JWT` and other values name no kind.
 */
function namesAnotherJwtType(typ: string): boolean {
  const type = typ.toLowerCase();
  return type.endsWith('+jwt') && !/(?:^|[/.-])at\+jwt$/.test(type);
}

/** Maps what `jose` rejects with to our errors: upstream trouble stays 503, the rest is 401. */
function joseFailure(error: unknown): Error {
  if (error instanceof VerifierUnavailableError) return error;
  if (error instanceof errors.JWTExpired) return new InvalidTokenError('The access token has expired', { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new InvalidTokenError(`The access token failed the "${error.claim}" check: ${error.message}`, { cause: error });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new InvalidTokenError('The access token signature is invalid', { cause: error });
  if (error instanceof errors.JWKSNoMatchingKey) return new InvalidTokenError('No known key matches the access token ("kid"/"alg")', { cause: error });
  if (error instanceof errors.JOSEAlgNotAllowed) return new InvalidTokenError('The access token "alg" is not allowed', { cause: error });
  // jose names unrecognised `crit` parameters in its message: attacker-chosen text, so not echoed.
  if (error instanceof errors.JOSENotSupported) return new InvalidTokenError('The access token uses an unsupported algorithm or critical header parameter', { cause: error });
  if (error instanceof errors.JOSEError) return new InvalidTokenError(`The access token is malformed: ${error.message}`, { cause: error });
  return error instanceof Error ? error : new Error(String(error));
}
