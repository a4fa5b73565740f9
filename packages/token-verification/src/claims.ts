/** Internal: builds an `AuthInfo` from verified claims, the same way for JWTs and introspection. */
import type { AuthInfo } from './auth-info.js';
import { InvalidTokenError } from './errors.js';
import { ReadonlyURL, resourceUrl } from './readonly-url.js';

/** Every verifier's first check: a token at all. */
export function assertPresent(token: unknown): asserts token is string {
  if (typeof token !== 'string' || token.length === 0) throw new InvalidTokenError('The access token is empty');
}

/**
 * A token bound to a key (`cnf`: DPoP `jkt`, mTLS `x5t#S256`) is only valid with proof of that key
 * (RFC 9449 §7.2, RFC 8705 §3). Presented as a plain Bearer token it is refused, unless the caller
 * checks the proof itself and says so.
 */
export function assertNotSenderConstrained(claims: Readonly<Record<string, unknown>>, accepted: boolean): void {
  if (!accepted && claims['cnf'] !== undefined) {
    throw new InvalidTokenError('The access token is bound to a key (cnf) and cannot be used as a Bearer token');
  }
}

/**
 * An `AuthInfo` that a cache hands out again and again: claims and scopes are frozen, so a handler
 * that edits `req.auth` cannot change what the next request with the same token is granted. `extra`
 * is the application's: its own objects are left as they are (see cacheVerifiedTokens).
 */
export function freezeAuthInfo<T extends Omit<AuthInfo, 'token'>>(info: T): T {
  deepFreeze(info.claims);
  Object.freeze(info.scopes);
  return info;
}

/**
 * One use of a cached result: with the token. A `resource` this package made is a shared
 * {@link ReadonlyURL}; any other URL (from a custom verifier) is copied for each use.
 */
export function withToken(info: Omit<AuthInfo, 'token'>, token: string): AuthInfo {
  return info.resource === undefined || info.resource instanceof ReadonlyURL
    ? { ...info, token }
    : { ...info, resource: new URL(info.resource.href), token };
}

/**
 * {@link withToken} for results this package built itself (exactly the {@link AuthInfo} fields):
 * spelled out rather than spread, as it runs on every cache hit and a literal is several times cheaper.
 */
export function withTokenFromOwnResult(info: Omit<AuthInfo, 'token'>, token: string): AuthInfo {
  const out: { -readonly [K in keyof AuthInfo]: AuthInfo[K] } = {
    token,
    clientId: info.clientId,
    scopes: info.scopes,
    claims: info.claims,
  };
  if (info.expiresAt !== undefined) out.expiresAt = info.expiresAt;
  if (info.resource !== undefined) out.resource = info.resource; // a shared ReadonlyURL
  if (info.subject !== undefined) out.subject = info.subject;
  if (info.issuer !== undefined) out.issuer = info.issuer;
  if (info.extra !== undefined) out.extra = info.extra;
  return out;
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  // for…in over own keys rather than Object.values(): no array per object (it runs on every new token).
  for (const key in value) if (Object.hasOwn(value, key)) deepFreeze((value as Record<string, unknown>)[key]);
}

/**
 * What a verification yields, without the token (added per use by {@link withTokenFromOwnResult}):
 * built as one literal of one shape, the form in which results are cached.
 */
export function verifiedInfo(
  claims: Readonly<Record<string, unknown>>,
  resource: string,
  readScopes: (claims: Readonly<Record<string, unknown>>) => string[],
): Omit<AuthInfo, 'token'> {
  const clientId = typeof claims['client_id'] === 'string' ? claims['client_id'] : typeof claims['azp'] === 'string' ? claims['azp'] : '';
  const info: { -readonly [K in keyof Omit<AuthInfo, 'token'>]: Omit<AuthInfo, 'token'>[K] } = { clientId, scopes: readScopes(claims), claims };
  if (typeof claims['exp'] === 'number') info.expiresAt = claims['exp'];
  const url = resourceUrl(resource);
  if (url) info.resource = url;
  if (typeof claims['sub'] === 'string') info.subject = claims['sub'];
  if (typeof claims['iss'] === 'string') info.issuer = claims['iss'];
  return info;
}

/** The first configured audience the `aud` claim (string or array) contains, if any (RFC 9068 §4). */
export function matchAudience(aud: unknown, audiences: readonly string[]): string | undefined {
  const values = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
  return audiences.find((a) => values.includes(a));
}

