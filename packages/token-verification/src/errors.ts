/**
 * Errors that carry their HTTP meaning (RFC 6750 §3.1): a status, the OAuth error code and the
 * challenge parameters, so any adapter — or Express's default error handler via `next(err)` —
 * answers correctly without an `instanceof` ladder.
 */

/** RFC 6750 §3.1 error codes. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

export interface TokenVerificationErrorOptions {
  readonly cause?: unknown;
}

/** Base class: `status`, optional `code`, and what a challenge needs. */
export abstract class TokenVerificationError extends Error {
  /** HTTP status to answer with. */
  abstract readonly status: 400 | 401 | 403 | 503;
  /** RFC 6750 error code; absent when the request had no credentials (RFC 6750 §3.1). */
  abstract readonly code: BearerErrorCode | undefined;
  /**
   * http-errors convention (Express, Koa): whether the message may be shown to the client. True for
   * the client's own errors (the message never contains the token); false for the 503, whose
   * message names upstream endpoints and what they answered, for operators only.
   */
  readonly expose: boolean = true;

  constructor(message: string, options?: TokenVerificationErrorOptions) {
    // A refused request is the client's doing, not a code path to debug, and refusals come by the
    // thousand under attack: no stack trace for 400/401/403, which is most of what an Error costs.
    // The operational 503 keeps its stack.
    const stackTraceLimit = Error.stackTraceLimit;
    if (!(new.target === VerifierUnavailableError || new.target.prototype instanceof VerifierUnavailableError)) Error.stackTraceLimit = 0;
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    Error.stackTraceLimit = stackTraceLimit;
    this.name = new.target.name;
  }

  /** Alias read by Connect and older middleware. */
  get statusCode(): number {
    return this.status;
  }
}

/** No credentials at all: 401 with a bare challenge and no error code (RFC 6750 §3.1). */
export class MissingCredentialsError extends TokenVerificationError {
  readonly status = 401 as const;
  readonly code = undefined;
  constructor(message = 'No access token was presented', options?: TokenVerificationErrorOptions) {
    super(message, options);
  }
}

/** The request is malformed (two credentials, token in the query, bad syntax): 400. */
export class InvalidRequestError extends TokenVerificationError {
  readonly status = 400 as const;
  readonly code = 'invalid_request' as const;
}

/** The token is expired, revoked, malformed, for another audience, or otherwise invalid: 401. */
export class InvalidTokenError extends TokenVerificationError {
  readonly status = 401 as const;
  readonly code = 'invalid_token' as const;
}

/** The token is valid but lacks scopes this request needs: 403 with every needed scope. */
export class InsufficientScopeError extends TokenVerificationError {
  readonly status = 403 as const;
  readonly code = 'insufficient_scope' as const;
  /** Every scope the current request needs (S-18, S-19: one challenge, the whole set). */
  readonly requiredScopes: readonly string[];
  constructor(requiredScopes: readonly string[], message?: string, options?: TokenVerificationErrorOptions) {
    super(message ?? `The access token lacks required scopes: ${requiredScopes.join(' ')}`, options);
    this.requiredScopes = Object.freeze([...requiredScopes]);
  }
}

/**
 * The authorization server (JWKS or introspection) cannot be reached, answered 5xx, or timed out:
 * 503, never 401, so an outage of the AS does not log every user out.
 */
export class VerifierUnavailableError extends TokenVerificationError {
  readonly status = 503 as const;
  readonly code = undefined;
  /** Seconds a client should wait before retrying (`Retry-After`). */
  readonly retryAfter: number;
  override readonly expose = false;
  constructor(message: string, options?: TokenVerificationErrorOptions & { readonly retryAfter?: number }) {
    super(message, options);
    this.retryAfter = options?.retryAfter ?? 5;
  }
}

/** Configuration mistakes found at construction: a `TypeError` with a stable code. */
export class ConfigurationError extends TypeError {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ConfigurationError';
    this.code = code;
  }
}
