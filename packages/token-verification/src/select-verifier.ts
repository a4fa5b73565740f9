/**
 * Composition: pick the one verifier responsible for a token, by its issuer or its shape.
 * Deliberately not a chain ("try JWT, then introspection"): that doubles latency, hides the real
 * error, and lets one verifier's weakness reach tokens meant for another.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { TokenVerifier } from './auth-info.js';
import { ConfigurationError, InvalidTokenError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';
import { assertPresent } from './claims.js';

/** Options for {@link selectVerifierByIssuer}. */
export interface SelectByIssuerOptions {
  /** The verifier for opaque (non-JWT) tokens, typically introspection. Default: opaque tokens are rejected. */
  readonly opaque?: TokenVerifier;
}

/** Options for {@link selectVerifierByTokenShape}. */
export interface SelectByShapeOptions {
  /** The verifier for JWTs (three-part JWS compact serialisation). Default: JWTs are rejected. */
  readonly jwt?: TokenVerifier;
  /** The verifier for every other token. Default: opaque tokens are rejected. */
  readonly opaque?: TokenVerifier;
}

const BY_ISSUER_OPTIONS: KnownOptions<SelectByIssuerOptions> = { opaque: true };
const BY_SHAPE_OPTIONS: KnownOptions<SelectByShapeOptions> = { jwt: true, opaque: true };

/** Whether a token is a JWS-compact JWT: three parts whose header and payload decode as JSON objects. */
export function isJwt(token: string): boolean {
  return unverifiedIssuer(token) !== undefined;
}

/** The `iss` of a JWT, decoded WITHOUT verification (routing only); `null` for a JWT without one; `undefined` if not a JWT. */
function unverifiedIssuer(token: string): string | null | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    if (typeof decodeProtectedHeader(token).alg !== 'string') return undefined;
    const { iss } = decodeJwt(token);
    return typeof iss === 'string' ? iss : null;
  } catch {
    return undefined; // not decodable as a JWT: it is an opaque token
  }
}

function checkVerifier(value: unknown, option: string): TokenVerifier {
  if (typeof value !== 'function') throw new ConfigurationError('ERR_INVALID_OPTIONS', `"${option}" must be a verifier function (token, context?) => Promise<AuthInfo>`);
  return value as TokenVerifier;
}

/**
 * A verifier for several issuers (multi-issuer, multi-tenant): a JWT goes to the verifier
 * registered for its `iss`, compared exactly against the allowlist *before* any network call, so
 * a token from an unknown issuer never makes us fetch anything (no SSRF through `iss`). Opaque
 * tokens go to `options.opaque`.
 *
 * The `iss` used for routing is unverified; the chosen verifier must (and ours do) check it again
 * with the signature.
 *
 * @example
 * const verify = selectVerifierByIssuer(
 *   { 'https://tenant-a.example.com': jwtA, 'https://tenant-b.example.com': jwtB },
 *   { opaque: introspection },
 * );
 */
export function selectVerifierByIssuer(verifiers: Readonly<Record<string, TokenVerifier>>, options: SelectByIssuerOptions = {}): TokenVerifier {
  if (typeof verifiers !== 'object' || verifiers === null) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', '"verifiers" must be an object mapping issuer identifiers to verifiers');
  }
  assertKnownOptions(options, BY_ISSUER_OPTIONS, 'selectVerifierByIssuer()');
  const byIssuer = new Map<string, TokenVerifier>();
  for (const [issuer, verifier] of Object.entries(verifiers)) {
    if (issuer.length === 0) throw new ConfigurationError('ERR_INVALID_OPTIONS', 'Issuer identifiers must be non-empty');
    byIssuer.set(issuer, checkVerifier(verifier, `verifiers[${JSON.stringify(issuer)}]`));
  }
  if (byIssuer.size === 0 && options.opaque === undefined) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'selectVerifierByIssuer needs at least one issuer or an "opaque" verifier');
  }
  const opaque = options.opaque === undefined ? undefined : checkVerifier(options.opaque, 'opaque');

  return async (token, context) => {
    assertPresent(token);
    const issuer = unverifiedIssuer(token);
    if (issuer === undefined) {
      if (!opaque) throw new InvalidTokenError('Opaque access tokens are not accepted here');
      return opaque(token, context);
    }
    const verifier = issuer === null ? undefined : byIssuer.get(issuer);
    if (!verifier) throw new InvalidTokenError('The access token was issued by an issuer that is not trusted here');
    return verifier(token, context);
  };
}

/**
 * A verifier that routes by token shape alone: JWTs to `jwt`, everything else to `opaque`.
 *
 * @example const verify = selectVerifierByTokenShape({ jwt: jwtVerifier, opaque: introspectionVerifier });
 */
export function selectVerifierByTokenShape(options: SelectByShapeOptions): TokenVerifier {
  if (typeof options !== 'object' || options === null || (options.jwt === undefined && options.opaque === undefined)) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'selectVerifierByTokenShape needs a "jwt" and/or an "opaque" verifier');
  }
  assertKnownOptions(options, BY_SHAPE_OPTIONS, 'selectVerifierByTokenShape()');
  const jwt = options.jwt === undefined ? undefined : checkVerifier(options.jwt, 'jwt');
  const opaque = options.opaque === undefined ? undefined : checkVerifier(options.opaque, 'opaque');
  return async (token, context) => {
    assertPresent(token);
    const verifier = isJwt(token) ? jwt : opaque;
    if (!verifier) throw new InvalidTokenError(`${isJwt(token) ? 'JWT' : 'Opaque'} access tokens are not accepted here`);
    return verifier(token, context);
  };
}
