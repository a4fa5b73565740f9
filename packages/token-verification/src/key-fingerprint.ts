/**
 * Internal: a key's identity for the verified-token cache — the `kid` the token named plus the
 * public key material — so that a cached verification can be tied to the key that checked it and
 * dropped once that key has left the JWKS.
 */
import { createPublicKey, KeyObject, type JsonWebKey } from 'node:crypto';
import type { CryptoKey, JSONWebKeySet } from 'jose';

const materials = new WeakMap<CryptoKey, string>();

/** The fingerprint of the key that verified a token whose header named `kid` (or no `kid`). */
export function keyFingerprint(kid: unknown, key: CryptoKey): string {
  let material = materials.get(key);
  if (material === undefined) {
    material = publicMaterial(KeyObject.from(key as Parameters<typeof KeyObject.from>[0]).export({ format: 'jwk' }));
    materials.set(key, material);
  }
  return `${typeof kid === 'string' ? kid : ''}|${material}`;
}

/**
 * Every fingerprint a token verified by a key of this set can carry: with the key's `kid`, and
 * without one (jose selects a lone matching key for a token that names no `kid`). The material is
 * normalised through `node:crypto`, so two spellings of one key compare equal; a member that is
 * not a usable public key simply has no fingerprint.
 */
export function jwkFingerprints(jwks: JSONWebKeySet): ReadonlySet<string> {
  const fingerprints = new Set<string>();
  for (const jwk of jwks.keys) {
    let material: string;
    try {
      material = publicMaterial(createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({ format: 'jwk' }));
    } catch {
      continue; // jose will not verify with it either, so no cached token can depend on it
    }
    if (typeof jwk.kid === 'string') fingerprints.add(`${jwk.kid}|${material}`);
    fingerprints.add(`|${material}`);
  }
  return fingerprints;
}

function publicMaterial(jwk: JsonWebKey): string {
  return JSON.stringify([jwk.kty, jwk.crv, jwk.x, jwk.y, jwk.n, jwk.e]);
}
