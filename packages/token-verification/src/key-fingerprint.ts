/**
 * Internal: a key's identity for the verified-token cache — the `kid` the token named plus the
 * public key material — so that a cached verification can be tied to the key that checked it and
 * dropped once that key has left the JWKS.
 */
import { createPublicKey, KeyObject, type JsonWebKey } from 'node:crypto';
import type { CryptoKey, JSONWebKeySet } from 'jose';

/** Per key: its public material, and the fingerprints made from it so far, one string per `kid`. */
const fingerprintsOf = new WeakMap<CryptoKey, { readonly material: string; readonly byKid: Map<string, string> }>();

/**
 * The fingerprint of the key that verified a token whose header named `kid` (or no `kid`). One
 * string per key and `kid`, shared by every cached token it verified, rather than a copy each.
 */
export function keyFingerprint(kid: unknown, key: CryptoKey): string {
  let known = fingerprintsOf.get(key);
  if (known === undefined) {
    const material = publicMaterial(KeyObject.from(key as Parameters<typeof KeyObject.from>[0]).export({ format: 'jwk' }));
    known = { material, byKid: new Map() };
    fingerprintsOf.set(key, known);
  }
  const name = typeof kid === 'string' ? kid : '';
  let fingerprint = known.byKid.get(name);
  if (fingerprint === undefined) {
    fingerprint = `${name}|${known.material}`;
    // A JWKS names few kids per key; tokens naming others are refused by the resolver before this.
    if (known.byKid.size < 16) known.byKid.set(name, fingerprint);
  }
  return fingerprint;
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
