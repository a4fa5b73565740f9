import type { TokenEndpointResponse } from 'oauth4webapi';
import { UpstreamTokenError } from './errors.js';
import type { UpstreamToken } from './token-cache.js';

/** Turns a processed token response into an {@link UpstreamToken}; only Bearer tokens are usable here. */
export function toUpstreamToken(response: TokenEndpointResponse, nowMs: number, endpoint: string): UpstreamToken {
  if (response.token_type !== 'bearer') {
    // `N_A` (RFC 8693 §2.2.1) means "not an access token": it cannot be sent as a Bearer credential.
    throw new UpstreamTokenError('invalid_token_response', `${endpoint} issued a token of type ${JSON.stringify(response.token_type)}, not a Bearer access token`);
  }
  const issued = response['issued_token_type'];
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
