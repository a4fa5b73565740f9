/** Internal: builds an `AuthInfo` from verified claims, the same way for JWTs and introspection. */
import type { AuthInfo } from './auth-info.js';

export function authInfoFromClaims(
  token: string,
  claims: Readonly<Record<string, unknown>>,
  resource: string,
  readScopes: (claims: Readonly<Record<string, unknown>>) => string[],
): AuthInfo {
  const clientId = typeof claims['client_id'] === 'string' ? claims['client_id'] : typeof claims['azp'] === 'string' ? claims['azp'] : '';
  const info: {
    -readonly [K in keyof AuthInfo]: AuthInfo[K];
  } = { token, clientId, scopes: readScopes(claims), claims };
  if (typeof claims['exp'] === 'number') info.expiresAt = claims['exp'];
  const url = parseUrl(resource);
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

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined; // a non-URL audience (allowed by RFC 7519) simply has no `resource`
  }
}
