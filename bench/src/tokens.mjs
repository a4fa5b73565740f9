// Keys and tokens for the benchmark: one ES256 and one RS256 key in a local JWKS, RFC 9068
// access tokens (`typ: at+jwt`) minted with jose, and cheap distinct invalid tokens for the flood.
import { KeyObject, randomBytes, sign as cryptoSign } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

export const AUDIENCE = 'http://127.0.0.1/mcp';
export const CLIENT_ID = 'bench-client';
export const SCOPE = 'mcp:tools';

/** Generates the signing keys and the public JWKS the authority serves. */
export async function createKeys() {
  const es = await generateKeyPair('ES256', { extractable: true });
  const rs = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const esJwk = { ...(await exportJWK(es.publicKey)), kid: 'bench-es256', alg: 'ES256', use: 'sig' };
  const rsJwk = { ...(await exportJWK(rs.publicKey)), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };
  return {
    ES256: { privateKey: es.privateKey, kid: esJwk.kid },
    RS256: { privateKey: rs.privateKey, kid: rsJwk.kid },
    jwks: { keys: [esJwk, rsJwk] },
  };
}

/** Mints one access token: iss, sub, aud, client_id, scope, iat, exp (one hour), jti. */
export function mint(keys, alg, issuer, { sub = 'user-1', jti = randomBytes(12).toString('base64url'), ttl = 3600 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: CLIENT_ID, scope: SCOPE })
    .setProtectedHeader({ alg, kid: keys[alg].kid, typ: 'at+jwt' })
    .setIssuer(issuer)
    .setSubject(sub)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .setJti(jti)
    .sign(keys[alg].privateKey);
}

/** Mints `count` distinct valid tokens (distinct `sub` and `jti`), a few hundred at a time. */
export async function mintMany(keys, alg, issuer, count, prefix = 'user') {
  const out = new Array(count);
  for (let i = 0; i < count; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 500); j++) batch.push(mint(keys, alg, issuer, { sub: `${prefix}-${j}` }).then((t) => (out[j] = t)));
    await Promise.all(batch);
  }
  return out;
}

/** The same header and claims with another token's signature: well-formed, known kid, bad signature. */
export function badSignature(token, otherToken) {
  const [h, p] = token.split('.');
  return `${h}.${p}.${otherToken.split('.')[2]}`;
}

/**
 * A generator of distinct invalid tokens for the flood: a valid ES256 token's header, its claims
 * with a fresh `jti` each time, and a signature that does not match (so every one of them costs
 * a signature verification, and none may be cached as valid).
 */
export function invalidTokenFactory(validToken) {
  const [h, p, s] = validToken.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  const prefix = Buffer.from(JSON.stringify({ ...claims, jti: undefined })).toString('utf8').slice(0, -1);
  let n = 0;
  return () => {
    n++;
    const payload = Buffer.from(`${prefix},"jti":"flood-${n}"}`).toString('base64url');
    return `${h}.${payload}.${s}`;
  };
}

/**
 * Mints `count` distinct ES256 tokens quickly: the same header and claims as {@link mint}, signed
 * synchronously with node:crypto (jose's async WebCrypto path is too slow for tens of thousands).
 */
export function mintManyFast(keys, issuer, count, prefix = 'fresh') {
  const key = KeyObject.from(keys.ES256.privateKey);
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: keys.ES256.kid, typ: 'at+jwt' })).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const claims = { client_id: CLIENT_ID, scope: SCOPE, iss: issuer, sub: `${prefix}-${i}`, aud: AUDIENCE, iat: now, exp: now + 3600, jti: `${prefix}-${i}-${now}` };
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    out[i] = `${input}.${cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  }
  return out;
}
