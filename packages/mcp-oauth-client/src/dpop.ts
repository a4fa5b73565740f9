import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, SignJWT, type CryptoKey } from 'jose';
import type { CryptoKeyPair } from 'oauth4webapi';

/** Inputs of {@link createDpopProof}. */
export interface DpopProofInput {
  readonly method: string;
  readonly url: URL;
  /** Bound through `ath` when presenting a token to a resource server (RFC 9449 §4.2). */
  readonly accessToken?: string;
  /** The server's last `DPoP-Nonce` (RFC 9449 §8, §9). */
  readonly nonce?: string;
}

function algorithmOf(key: CryptoKey): string {
  const alg = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } };
  if (alg.name === 'ECDSA') return alg.namedCurve === 'P-384' ? 'ES384' : alg.namedCurve === 'P-521' ? 'ES512' : 'ES256';
  if (alg.name === 'Ed25519' || alg.name === 'EdDSA') return 'EdDSA';
  // RSA keys carry their hash (RFC 7518 §3.3, §3.5): a SHA-384 key signs RS384, never RS256.
  const bits = alg.hash?.name === 'SHA-512' ? '512' : alg.hash?.name === 'SHA-384' ? '384' : '256';
  return alg.name === 'RSA-PSS' ? `PS${bits}` : `RS${bits}`;
}

/**
 * A fresh DPoP proof JWT for one request to a resource server (RFC 9449 §4.2): unique `jti`, `htm`,
 * `htu` without query and fragment, `iat`, `ath` and `nonce` when given. Hand-written with jose because
 * oauth4webapi signs proofs only inside its own request functions (used here for the token endpoint).
 */
export async function createDpopProof(keyPair: CryptoKeyPair, input: DpopProofInput): Promise<string> {
  const htu = new URL(input.url);
  htu.search = '';
  htu.hash = '';
  const { kty, crv, x, y, e, n } = await exportJWK(keyPair.publicKey as CryptoKey);
  const jwk = Object.fromEntries(Object.entries({ kty, crv, x, y, e, n }).filter(([, v]) => v !== undefined));
  return new SignJWT({
    jti: randomUUID(),
    htm: input.method.toUpperCase(),
    htu: htu.href,
    ...(input.accessToken !== undefined && { ath: createHash('sha256').update(input.accessToken).digest('base64url') }),
    ...(input.nonce !== undefined && { nonce: input.nonce }),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: algorithmOf(keyPair.privateKey as CryptoKey), jwk })
    .setIssuedAt()
    .sign(keyPair.privateKey as CryptoKey);
}
