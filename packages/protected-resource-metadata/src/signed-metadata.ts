import type { KeyObject } from 'node:crypto';
import { SignJWT, type CryptoKey, type JWK } from 'jose';
import { ConfigurationError } from '@portcullis/token-verification';
import type { ProtectedResourceMetadataDocument } from './protected-resource.js';
import { parseConfiguredUrl } from './urls.js';

/** How to produce `signed_metadata` (RFC 9728 §2.2). */
export interface SignedMetadataOptions {
  /** The private signing key (asymmetric only). */
  readonly key: CryptoKey | KeyObject | JWK;
  /** JWS algorithm, e.g. `ES256`, `RS256`, `EdDSA`. `none` and HMAC are refused. */
  readonly alg: string;
  /** `kid` header, so verifiers can pick the key from a JWKS. Default: omitted. */
  readonly kid?: string;
  /** The `iss` claim (RFC 9728 §2.2 requires one): the party vouching for the metadata. */
  readonly issuer: URL | string;
}

/** Validates {@link SignedMetadataOptions} once; returns the signer. */
export function createMetadataSigner(options: SignedMetadataOptions): (document: ProtectedResourceMetadataDocument) => Promise<string> {
  if (!options || typeof options !== 'object') {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'signedMetadata must be an object { key, alg, issuer }');
  }
  if (typeof options.alg !== 'string' || options.alg === '' || options.alg.toLowerCase() === 'none' || /^HS/i.test(options.alg)) {
    throw new ConfigurationError(
      'ERR_INVALID_ALGORITHM',
      `signedMetadata.alg must be an asymmetric JWS algorithm (ES256, RS256, PS256, EdDSA…), got ${JSON.stringify(options.alg)}`,
    );
  }
  if (!options.key || typeof options.key !== 'object' || options.key instanceof Uint8Array) {
    throw new ConfigurationError('ERR_INVALID_KEY', 'signedMetadata.key must be a private CryptoKey, KeyObject or JWK');
  }
  const issuer = parseConfiguredUrl(options.issuer, 'signedMetadata.issuer').href.replace(/\/$/, '');
  const header = { alg: options.alg, ...(options.kid !== undefined ? { kid: options.kid } : {}) };
  return (document) =>
    new SignJWT({ ...document })
      .setProtectedHeader(header)
      .setIssuer(issuer)
      .setIssuedAt()
      .sign(options.key);
}
