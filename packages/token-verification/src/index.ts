export { answerFromMemory, isAuthInfo, verifierTrust } from './auth-info.js';
export type { AuthInfo, TokenVerifier, VerifierTrust, VerifyContext } from './auth-info.js';
export {
  ConfigurationError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  MissingCredentialsError,
  TokenVerificationError,
  VerifierUnavailableError,
} from './errors.js';
export type { BearerErrorCode, TokenVerificationErrorOptions } from './errors.js';
export type { CurrentDate } from './configuration.js';
export { ASYMMETRIC_ALGORITHMS, createJwtVerifier, HMAC_ALGORITHMS } from './jwt-verifier.js';
export type { JwtAlgorithm, JwtCacheOptions, JwtKeySource, JwtVerifierBaseOptions, JwtVerifierOptions } from './jwt-verifier.js';
export { assertScopes, DEFAULT_SCOPE_CLAIMS, missingScopes, readScopes, scopeSatisfies } from './scopes.js';
export type { AssertScopesOptions, ScopeClaims, ScopeHierarchy } from './scopes.js';
export { createIntrospectionVerifier } from './introspection-verifier.js';
export type {
  IntrospectionCacheOptions,
  IntrospectionClientAuthentication,
  IntrospectionVerifierOptions,
} from './introspection-verifier.js';
export { isJwt, selectVerifierByIssuer, selectVerifierByTokenShape } from './select-verifier.js';
export type { SelectByIssuerOptions, SelectByShapeOptions } from './select-verifier.js';
export { fetchAuthorizationServerMetadata } from './authorization-server-metadata.js';
export type { AuthorizationServerMetadataOptions } from './authorization-server-metadata.js';
export { cacheVerifiedTokens } from './cache-verified-tokens.js';
export type { VerifiedTokenCacheOptions } from './cache-verified-tokens.js';
export { assertKnownOptions } from './known-options.js';
export type { KnownOptions } from './known-options.js';
