/**
 * Stable codes of {@link UpstreamTokenError}. Match on these, never on messages.
 *
 * - `token_request_refused`: the token endpoint answered with an OAuth error (`oauthError`, `status`).
 * - `invalid_token_response`: the token endpoint answered something that is not a usable access token
 *   (or `getToken` gave `upstreamFetch` one that cannot go in an `Authorization` header).
 * - `discovery_failed`: the issuer's RFC 8414 metadata could not be fetched or is invalid.
 * - `fetch_failed`: the token endpoint could not be reached.
 */
export type UpstreamTokenErrorCode = 'token_request_refused' | 'invalid_token_response' | 'discovery_failed' | 'fetch_failed';

/**
 * Why an upstream token could not be obtained. Messages name the endpoint and the OAuth error code,
 * never a token or a secret. From a tool handler, an MCP server usually answers it with a 502-style
 * tool error: it is not the caller's token that was rejected (the `status` is the AS's, not ours).
 */
export class UpstreamTokenError extends Error {
  override readonly name = 'UpstreamTokenError';
  readonly code: UpstreamTokenErrorCode;
  /** The OAuth `error` the token endpoint answered with, e.g. `invalid_grant`, when there was one. */
  readonly oauthError: string | undefined;
  /** The token endpoint's HTTP status, when there was a response. */
  readonly status: number | undefined;

  constructor(code: UpstreamTokenErrorCode, message: string, options: { cause?: unknown; oauthError?: string; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.oauthError = options.oauthError;
    this.status = options.status;
  }
}
