import { importJWK, type CryptoKey, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { ConfigurationError } from '@portcullis/token-verification';

/** JWS algorithms oauth4webapi signs client assertions with, and the JWK `kty` (and `crv`) each needs. */
const JWK_ALGORITHMS: Readonly<Record<string, { readonly kty: string; readonly crv?: string }>> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  'ML-DSA-44': { kty: 'AKP' },
  'ML-DSA-65': { kty: 'AKP' },
  'ML-DSA-87': { kty: 'AKP' },
};

type SigningAlgorithm = { readonly name?: string; readonly hash?: { readonly name?: string }; readonly namedCurve?: string };

/** The CryptoKey algorithms oauth4webapi can name in an assertion header (its `keyToJws`). */
const SIGNING_KEYS: Readonly<Record<string, (algorithm: SigningAlgorithm) => boolean>> = {
  'RSASSA-PKCS1-v1_5': (a) => ['SHA-256', 'SHA-384', 'SHA-512'].includes(a.hash?.name ?? ''),
  'RSA-PSS': (a) => ['SHA-256', 'SHA-384', 'SHA-512'].includes(a.hash?.name ?? ''),
  ECDSA: (a) => ['P-256', 'P-384', 'P-521'].includes(a.namedCurve ?? ''),
  Ed25519: () => true,
  EdDSA: (a) => a.namedCurve === undefined || a.namedCurve === 'Ed25519',
  'ML-DSA-44': () => true,
  'ML-DSA-65': () => true,
  'ML-DSA-87': () => true,
};

/**
 * RFC 7523 §2.2 client authentication with `client.privateKey`, checked at construction: a public
 * key, a JWK without `alg` (jose needs it to import) or a key oauth4webapi cannot sign with would
 * otherwise fail only at the first request, with a raw TypeError.
 */
export function privateKeyJwt(privateKey: CryptoKey | JWK, kid: string | undefined, factory: string): () => Promise<oauth.ClientAuth> {
  const invalid = (why: string) => new ConfigurationError('ERR_INVALID_KEY', `${factory}: client.privateKey ${why} (private_key_jwt signs with a private key, RFC 7523 §2.2)`);
  if (typeof (privateKey as JWK).kty === 'string') {
    const jwk = privateKey as JWK;
    const wanted = typeof jwk.alg === 'string' ? JWK_ALGORITHMS[jwk.alg] : undefined;
    if (!wanted) throw invalid(`must be a JWK with alg one of ${Object.keys(JWK_ALGORITHMS).join(', ')}`);
    if (jwk.kty !== wanted.kty || (wanted.crv !== undefined && jwk.crv !== wanted.crv)) throw invalid(`has alg ${jwk.alg}, which needs kty ${wanted.kty}${wanted.crv ? ` and crv ${wanted.crv}` : ''}`);
    if (typeof (jwk.kty === 'AKP' ? jwk.priv : jwk.d) !== 'string') throw invalid('is a public JWK');
    const keyId = kid ?? jwk.kid;
    let imported: Promise<oauth.ClientAuth> | undefined;
    return () => {
      imported ??= importJWK(jwk)
        .then((key) => oauth.PrivateKeyJwt(keyId === undefined ? (key as CryptoKey) : { key: key as CryptoKey, kid: keyId }))
        // The key material itself is only read here (importing is async); say so without quoting it.
        .catch(() => Promise.reject(invalid(`could not be imported as an ${jwk.alg} private key`)));
      // A failed import is tried again on the next call, never memoised as a rejection.
      imported.catch(() => {
        imported = undefined;
      });
      return imported;
    };
  }
  const key = privateKey as Partial<CryptoKey> | undefined;
  if (key?.type !== 'private') throw invalid('must be a private CryptoKey or a private JWK');
  const algorithm = (key.algorithm ?? {}) as SigningAlgorithm;
  if (!SIGNING_KEYS[algorithm.name ?? '']?.(algorithm) || !key.usages?.includes('sign')) {
    throw invalid(`must be a signing key (${Object.keys(SIGNING_KEYS).join(', ')}) with "sign" in its usages`);
  }
  let method: oauth.ClientAuth;
  try {
    method = oauth.PrivateKeyJwt(kid === undefined ? (key as CryptoKey) : { key: key as CryptoKey, kid });
  } catch {
    throw invalid('must be a CryptoKey');
  }
  return async () => method;
}
