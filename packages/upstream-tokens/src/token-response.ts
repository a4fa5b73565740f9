import type { TokenEndpointResponse } from 'oauth4webapi';
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

/** What {@link toUpstreamToken} asks of a response beyond a usable Bearer token. */
export interface TokenResponseExpectations {
  /** RFC 8693 §2.2.1: a token-exchange response MUST carry `issued_token_type`. Default false (client credentials). */
  readonly requireIssuedTokenType?: boolean;
}

/** Turns a processed token response into an {@link UpstreamToken}; only Bearer tokens are usable here. */
export function toUpstreamToken(response: TokenEndpointResponse, nowMs: number, endpoint: string, expected: TokenResponseExpectations = {}): UpstreamToken {
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
  const expiresIn = response.expires_in;
  return {
    accessToken: response.access_token,
    tokenType: 'Bearer',
    ...(typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 && { expiresAt: Math.floor(nowMs / 1000) + expiresIn }),
    ...(typeof response.scope === 'string' && { scope: response.scope }),
  };
}
