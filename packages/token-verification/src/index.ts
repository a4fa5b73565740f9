export type { AuthInfo, TokenVerifier, VerifyContext } from './auth-info.js';
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
