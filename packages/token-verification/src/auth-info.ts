/**
 * What a successful verification yields. A superset of the MCP TypeScript SDK's `AuthInfo`
 * (`token`, `clientId`, `scopes`, `expiresAt`, `resource`, `extra`), so it can be set on `req.auth`
 * and reach tool handlers as `extra.authInfo` unchanged.
 */
export interface AuthInfo {
  /** The access token as presented. Never log it. */
  readonly token: string;
  /** `client_id`, else `azp` (RFC 9068 §2.2); `''` when the token names no client. */
  readonly clientId: string;
  /** Granted scopes, de-duplicated, in the order the token lists them. */
  readonly scopes: string[];
  /** Expiry in seconds since the epoch (`exp`). */
  readonly expiresAt?: number;
  /** The resource (RFC 8707) this token was verified for: the configured audience that matched. */
  readonly resource?: URL;
  /** `sub`, when present. */
  readonly subject?: string;
  /** `iss`, when present. */
  readonly issuer?: string;
  /** Every verified claim (JWT payload or introspection response). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** Free-form data for the application; the MCP SDK passes it through. */
  readonly extra?: Record<string, unknown>;
}

/** Per-call context a verifier may use. */
export interface VerifyContext {
  /** Aborts network work (JWKS fetch, introspection) done for this call. */
  readonly signal?: AbortSignal;
}

/**
 * The key of a verifier's optional synchronous answer (see {@link TokenVerifier}). A registered
 * symbol, so two copies of this package installed side by side still understand each other.
 */
export const answerFromMemory: unique symbol = Symbol.for('@portcullis/token-verification.answerFromMemory');

/**
 * A verifier: a plain function, so one instance can serve many services (an MCP server, a gateway,
 * a queue worker). It resolves with the `AuthInfo` or rejects with a `TokenVerificationError`.
 *
 * It may also carry `[answerFromMemory](token)`: the answer when one needs no I/O and no waiting —
 * the `AuthInfo` of a token verified before and still trusted, or a thrown `TokenVerificationError`
 * for a token refused on sight — and `undefined` when the caller must await the verifier. Middleware
 * uses it to serve the common case, the same token again, without a promise.
 */
export type TokenVerifier = ((token: string, context?: VerifyContext) => Promise<AuthInfo>) & {
  readonly [answerFromMemory]?: (token: string) => AuthInfo | undefined;
  readonly [verifierTrust]?: VerifierTrust;
};

/**
 * The key of what a verifier accepts (see {@link VerifierTrust}). A registered symbol, as
 * {@link answerFromMemory} is.
 */
export const verifierTrust: unique symbol = Symbol.for('@portcullis/token-verification.verifierTrust');

/** Whose tokens, for which resources, a verifier accepts: for middleware to check its own configuration against at start-up. */
export interface VerifierTrust {
  /** The issuer whose tokens it accepts; undefined when it does not check one. */
  readonly issuer: string | undefined;
  /** The audiences (resource identifiers) it accepts, one of which a token must name. */
  readonly audiences: readonly string[];
}

/**
 * Whether `value` has the shape of an {@link AuthInfo}: for code that receives one typed as something
 * narrower, as MCP SDK tool handlers do (`extra.authInfo` is the SDK's type, without `subject`,
 * `issuer` or `claims`, though `bearerAuth` put ours there unchanged).
 *
 * @example if (isAuthInfo(extra.authInfo)) console.log(extra.authInfo.subject);
 */
export function isAuthInfo(value: unknown): value is AuthInfo {
  if (typeof value !== 'object' || value === null) return false;
  const info = value as Record<string, unknown>;
  return (
    typeof info['token'] === 'string' &&
    typeof info['clientId'] === 'string' &&
    Array.isArray(info['scopes']) &&
    typeof info['claims'] === 'object' &&
    info['claims'] !== null
  );
}
