import { createPrivateKey, KeyObject, type JsonWebKey } from 'node:crypto';
import { SignJWT, type CryptoKey, type JWK } from 'jose';
import { assertKnownOptions, ConfigurationError, type KnownOptions } from '@portcullis/token-verification';
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

const SIGNED_METADATA_OPTIONS: KnownOptions<SignedMetadataOptions> = { key: true, alg: true, kid: true, issuer: true };

/** Validates {@link SignedMetadataOptions} once; returns the signer. */
export function createMetadataSigner(options: SignedMetadataOptions): (document: ProtectedResourceMetadataDocument) => Promise<string> {
  if (!options || typeof options !== 'object') {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'signedMetadata must be an object { key, alg, issuer }');
  }
  assertKnownOptions(options, SIGNED_METADATA_OPTIONS, 'protectedResourceMetadata() signedMetadata');
  if (typeof options.alg !== 'string' || options.alg === '' || options.alg.toLowerCase() === 'none' || /^HS/i.test(options.alg)) {
    throw new ConfigurationError(
      'ERR_INVALID_ALGORITHM',
      `signedMetadata.alg must be an asymmetric JWS algorithm (ES256, RS256, PS256, EdDSA…), got ${JSON.stringify(options.alg)}`,
    );
  }
  if (!options.key || typeof options.key !== 'object' || options.key instanceof Uint8Array) {
    throw new ConfigurationError('ERR_INVALID_KEY', 'signedMetadata.key must be a private CryptoKey, KeyObject or JWK');
  }
  assertSigningKey(options.key, options.alg);
  const issuer = parseConfiguredUrl(options.issuer, 'signedMetadata.issuer').href.replace(/\/$/, '');
  const header = { alg: options.alg, ...(options.kid !== undefined ? { kid: options.kid } : {}) };
  return (document) =>
    new SignJWT({ ...document })
      .setProtectedHeader(header)
      .setIssuer(issuer)
      .setIssuedAt()
      .sign(options.key);
}

/** RFC 7519 §4.1 registered claims: in signed metadata they are the JWT's, not the document's. */
const JWT_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'];

/** Refuses a document with a field that would be taken for a JWT claim in its `signed_metadata` (RFC 9728 §2.2). */
export function assertSignable(document: ProtectedResourceMetadataDocument): void {
  const clash = JWT_CLAIMS.find((claim) => claim in document);
  if (clash) throw new ConfigurationError('ERR_INVALID_OPTIONS', `The metadata field ${clash} would be taken for the JWT claim of that name in signed_metadata; rename it`);
}

/** The key types each JWS algorithm signs with (RFC 7518 §3.1, RFC 8037 §3.1). */
function keyTypeFor(alg: string): string | undefined {
  if (/^RS(256|384|512)$/.test(alg)) return 'rsa';
  if (/^PS(256|384|512)$/.test(alg)) return 'rsa|rsa-pss';
  if (alg === 'EdDSA') return 'ed25519|ed448';
  if (alg === 'Ed25519') return 'ed25519';
  return { ES256: 'ec:prime256v1', ES384: 'ec:secp384r1', ES512: 'ec:secp521r1' }[alg];
}

/**
 * Refuses, when the middleware is made, a key that cannot sign with `alg` (a public key, another key
 * type or curve): the document is signed on the first request, and a key that fails then would leave
 * the metadata route answering 500 for good (S-02).
 */
function assertSigningKey(key: SignedMetadataOptions['key'], alg: string): void {
  let keyObject: KeyObject;
  try {
    keyObject = key instanceof KeyObject ? key : 'kty' in key ? createPrivateKey({ key: key as JsonWebKey, format: 'jwk' }) : KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
  } catch {
    throw new ConfigurationError('ERR_INVALID_KEY', 'signedMetadata.key must be a private CryptoKey, KeyObject or JWK');
  }
  if (keyObject.type !== 'private') throw new ConfigurationError('ERR_INVALID_KEY', `signedMetadata.key must be a private key, got a ${keyObject.type} key`);
  const type = keyObject.asymmetricKeyType === 'ec' ? `ec:${keyObject.asymmetricKeyDetails?.namedCurve}` : keyObject.asymmetricKeyType;
  const expected = keyTypeFor(alg);
  if (expected === undefined) throw new ConfigurationError('ERR_INVALID_ALGORITHM', `signedMetadata.alg ${JSON.stringify(alg)} is not a JWS algorithm this package signs with`);
  if (!type || !expected.split('|').includes(type)) {
    throw new ConfigurationError('ERR_INVALID_KEY', `signedMetadata.key (${type}) cannot sign with ${alg}`);
  }
  // A Web Crypto key is also bound to one algorithm (and hash) and to its usages.
  if (!(key instanceof KeyObject) && !('kty' in key)) {
    const { algorithm, usages } = key as CryptoKey;
    const hash = (algorithm as { hash?: { name?: string } }).hash?.name;
    const wanted = alg.startsWith('RS') ? 'RSASSA-PKCS1-v1_5' : alg.startsWith('PS') ? 'RSA-PSS' : algorithm.name;
    if (algorithm.name !== wanted || (hash !== undefined && hash !== `SHA-${alg.slice(2)}`) || !usages.includes('sign')) {
      throw new ConfigurationError('ERR_INVALID_KEY', `signedMetadata.key is a Web Crypto ${algorithm.name} key${hash ? ` (${hash})` : ''} that cannot sign with ${alg}`);
    }
  }
}
