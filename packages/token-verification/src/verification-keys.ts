import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';

type Jwk = JSONWebKeySet['keys'][number];

/** Private members of RSA, EC and OKP keys (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'] as const;

/**
 * The members of a JWK Set that can verify a signature, as jose should import them. Everything
 * jose would only reject at verification time, with an error that is not a JOSE one (a 500 for the
 * request instead of a 401), is left out, so that a token signed with it finds no key:
 * - a member with private parameters: a verification key set has no business holding one;
 * - `key_ops` without `verify` (RFC 7517 §4.3); with it, narrowed to `["verify"]`, since jose hands
 *   `key_ops` to WebCrypto as the usages, and WebCrypto refuses `sign` on a public key;
 * - a public key node:crypto cannot read, and an RSA key under 2048 bits (RFC 8725 §3.5, jose's floor).
 * Symmetric (`oct`) members pass unchanged: jose refuses them for asymmetric algorithms itself.
 */
export function verificationKeys(jwks: JSONWebKeySet): JSONWebKeySet {
  const keys: Jwk[] = [];
  let changed = false;
  for (const jwk of jwks.keys) {
    const key = verificationKey(jwk);
    if (key !== undefined) keys.push(key);
    changed ||= key !== jwk;
  }
  return changed ? { ...jwks, keys } : jwks;
}

/** Whether a JWK carries the private half of an asymmetric key. */
export function hasPrivateMembers(jwk: Jwk): boolean {
  return typeof jwk === 'object' && jwk !== null && jwk.kty !== 'oct' && PRIVATE_MEMBERS.some((member) => member in jwk);
}

function verificationKey(jwk: Jwk): Jwk | undefined {
  if (jwk.kty === 'oct') return jwk;
  if (hasPrivateMembers(jwk)) return undefined;
  let key = jwk;
  if (jwk.key_ops !== undefined) {
    if (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes('verify')) return undefined;
    if (jwk.key_ops.length !== 1) key = { ...jwk, key_ops: ['verify'] };
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: key as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
  const bits = publicKey.asymmetricKeyDetails?.modulusLength;
  return bits === undefined || bits >= 2048 ? key : undefined;
}
