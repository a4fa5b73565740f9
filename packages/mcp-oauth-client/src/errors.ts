/**
 * Stable error codes of {@link McpOAuthError}. Match on these, never on messages.
 *
 * - `invalid_challenge`: a `WWW-Authenticate` header that does not follow RFC 7235 §2.1.
 * - `ssrf_blocked`: a URL the SSRF guard refused (scheme, host, resolved address, redirect hop) — C-43…C-46.
 * - `fetch_failed`: a network error, timeout or oversized response while fetching.
 * - `metadata_not_found`: no protected-resource or authorization-server metadata at any URL tried.
 * - `invalid_metadata`: a metadata document that is not a JSON object of the expected shape.
 * - `resource_mismatch`: the PRM `resource` does not name the server being accessed (RFC 9728 §3.3, C-04).
 * - `issuer_mismatch`: the AS metadata `issuer` is not identical to the one the URL was built from (C-08).
 * - `pkce_unsupported`: the AS does not advertise `S256` in `code_challenge_methods_supported` (C-28).
 * - `registration_unavailable`: no pre-registered client, no CIMD support, no registration endpoint (C-09).
 * - `registration_failed`: the registration endpoint refused the client (C-17).
 * - `client_issuer_mismatch`: pre-registered credentials are bound to another issuer (C-18).
 * - `invalid_url`: an authorization or redirect URL with a forbidden scheme or shape (C-48, C-50).
 * - `state_mismatch`: the authorization response carries no or another `state` (C-30).
 * - `iss_mismatch`: the RFC 9207 `iss` check failed (C-32…C-34); `error` in that response is ignored.
 * - `authorization_denied`: the AS answered the authorization request with an `error`.
 * - `unknown_authorization`: a callback whose `state` matches no pending authorization.
 * - `token_request_failed`: the token endpoint refused a grant (details in `oauthError`).
 * - `refresh_failed`: a refresh was refused; stored tokens were removed if still the failed ones.
 * - `authorization_required`: user interaction is needed but no authorization handler is configured.
 * - `step_up_limit`: the retry cap for a resource and operation was reached (C-24).
 * - `retry_limit`: the server kept answering 401 after fresh tokens, or an {@link AuthStrategy} used up its retries for a request.
 * - `static_token_rejected`: the server answered 401 or 403 to a {@link staticToken}; it is never renewed or retried.
 * - `callback_timeout`: the loopback redirect server received no callback in time.
 * - `lock_timeout`: the refresh lock could not be acquired in time.
 * - `storage_failed`: the token store could not read, decrypt or write.
 * - `invalid_options`: a configuration mistake, reported at construction.
 */
export type McpOAuthErrorCode =
  | 'invalid_challenge'
  | 'ssrf_blocked'
  | 'fetch_failed'
  | 'metadata_not_found'
  | 'invalid_metadata'
  | 'resource_mismatch'
  | 'issuer_mismatch'
  | 'pkce_unsupported'
  | 'registration_unavailable'
  | 'registration_failed'
  | 'client_issuer_mismatch'
  | 'invalid_url'
  | 'state_mismatch'
  | 'iss_mismatch'
  | 'authorization_denied'
  | 'unknown_authorization'
  | 'token_request_failed'
  | 'refresh_failed'
  | 'authorization_required'
  | 'step_up_limit'
  | 'retry_limit'
  | 'static_token_rejected'
  | 'callback_timeout'
  | 'lock_timeout'
  | 'storage_failed'
  | 'invalid_options';

export interface McpOAuthErrorOptions {
  readonly cause?: unknown;
  /** The OAuth `error` code an endpoint answered with, when there was one (never a token). */
  readonly oauthError?: string;
  /** The HTTP status that led to the error, when there was one. */
  readonly status?: number;
}

/**
 * The one error type of this package: a stable {@link McpOAuthErrorCode}, a message meant for people,
 * and the underlying `cause`. Messages never contain tokens, codes or secrets, only URLs and parameter names.
 */
export class McpOAuthError extends Error {
  override readonly name = 'McpOAuthError';
  readonly code: McpOAuthErrorCode;
  readonly oauthError: string | undefined;
  readonly status: number | undefined;

  constructor(code: McpOAuthErrorCode, message: string, options: McpOAuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.oauthError = options.oauthError;
    this.status = options.status;
  }
}

/** True when `error` is an {@link McpOAuthError}, optionally with the given code. */
export function isMcpOAuthError(error: unknown, code?: McpOAuthErrorCode): error is McpOAuthError {
  return error instanceof McpOAuthError && (code === undefined || error.code === code);
}
