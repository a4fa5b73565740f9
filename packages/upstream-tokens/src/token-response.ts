import type { JsonValue, TokenEndpointResponse } from 'oauth4webapi';
import { UpstreamTokenError } from './errors.js';
import type { UpstreamToken } from './token-cache.js';

/**
 * RFC 6749 §A.12 `access-token = 1*VSCHAR` without the space (%x21-7E): what can follow `Bearer ` in
 * one header value. A token with a newline, a space or non-ASCII would make `Headers` throw a
 * TypeError quoting it, or split into another header.
 */
const HEADER_SAFE_TOKEN = /^[\x21-\x7E]+$/;

/** Whether `value` is an access token that can be sent as `Authorization: Bearer <value>`. */
export function isHeaderSafeToken(value: unknown): value is string {
  return typeof value === 'string' && HEADER_SAFE_TOKEN.test(value);
}

/**
 * A processed token response with `expires_in` as the AS wrote it: oauth4webapi `parseFloat`s a
 * string, so `"1e9"` would come out as a 31-year lifetime.
 */
export type TokenResponse = Omit<TokenEndpointResponse, 'expires_in'> & { readonly expires_in?: JsonValue | undefined };

/** What {@link toUpstreamToken} asks of a response beyond a usable Bearer token. */
export interface TokenResponseExpectations {
  /** RFC 8693 §2.2.1: a token-exchange response MUST carry `issued_token_type`. Default false (client credentials). */
  readonly requireIssuedTokenType?: boolean;
}

/** Turns a processed token response into an {@link UpstreamToken}; only Bearer tokens are usable here. */
export function toUpstreamToken(response: TokenResponse, nowMs: number, endpoint: string, expected: TokenResponseExpectations = {}): UpstreamToken {
  // Refused before it is cached; the message never quotes the token.
  if (!isHeaderSafeToken(response.access_token)) {
    throw new UpstreamTokenError('invalid_token_response', `${endpoint} issued an access_token that cannot be sent in an Authorization header (RFC 6749 §A.12)`);
  }
  if (response.token_type !== 'bearer') {
    // `N_A` (RFC 8693 §2.2.1) means "not an access token": it cannot be sent as a Bearer credential.
    throw new UpstreamTokenError('invalid_token_response', `${endpoint} issued a token of type ${JSON.stringify(response.token_type)}, not a Bearer access token`);
  }
  const issued = response['issued_token_type'];
  if (issued === undefined && expected.requireIssuedTokenType === true) {
    throw new UpstreamTokenError('invalid_token_response', `${endpoint} answered the token exchange without issued_token_type (RFC 8693 §2.2.1)`);
  }
  if (issued !== undefined && issued !== 'urn:ietf:params:oauth:token-type:access_token') {
    throw new UpstreamTokenError('invalid_token_response', `${endpoint} issued ${JSON.stringify(issued)}, not an access token`);
  }
  // RFC 6749 §5.1, §A.14: expires-in = 1*DIGIT, a number of seconds. Some ASes (Azure AD v1, ADFS)
  // send those digits as a JSON string; anything else (a fraction, zero, `"1e9"`, which oauth4webapi
  // would `parseFloat`) is refused rather than turned into a cache lifetime by guessing.
  const raw = response.expires_in;
  const expiresIn = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : raw;
  if (expiresIn !== undefined && !(typeof expiresIn === 'number' && Number.isSafeInteger(expiresIn) && expiresIn > 0)) {
    throw new UpstreamTokenError('invalid_token_response', `${endpoint} answered an expires_in that is not a positive whole number of seconds (RFC 6749 §5.1)`);
  }
  return {
    accessToken: response.access_token,
    tokenType: 'Bearer',
    ...(expiresIn !== undefined && { expiresAt: Math.floor(nowMs / 1000) + expiresIn }),
    ...(typeof response.scope === 'string' && { scope: response.scope }),
  };
}
