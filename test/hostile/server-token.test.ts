/**
 * Hostile tokens against the resource server: each case goes through the core verifier
 * (`createJwtVerifier`) and through `bearerAuth` over real HTTP (supertest), and must be refused
 * with its asserted outcome. Keys come from a local JWKS server; attacker keys from another one
 * that must never be contacted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { base64url, CompactEncrypt, exportJWK, exportSPKI, importJWK, SignJWT, type CryptoKey } from 'jose';
import { createTestKey, mintAccessToken, startJwksServer, type JwksServer, type TestKey } from '@portcullis/test-fixtures';
import { cacheVerifiedTokens, createJwtVerifier, InvalidTokenError, type TokenVerifier } from '@portcullis/token-verification';
import { challengeParams, ISSUER, mcpApp, rejects, RESOURCE } from './support.js';

let rsa: TestKey;
let ec: TestKey;
let attackerKey: TestKey;
let jwks: JwksServer;
let attacker: JwksServer;
let verify: TokenVerifier;
let app: ReturnType<typeof mcpApp>['app'];

const b64 = (value: unknown) => base64url.encode(typeof value === 'string' ? value : JSON.stringify(value));
const now = () => Math.floor(Date.now() / 1000);
/** Signs any header and payload bytes with the ES256 test key, bypassing every check a JWT library makes when signing. */
async function signCompact(header: Record<string, unknown>, payload: string | Uint8Array): Promise<string> {
  const input = `${b64(header)}.${base64url.encode(payload)}`;
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, ec.privateKey, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}
/** The RSA test key re-imported for another RSA algorithm (same key material). */
async function rsaAs(alg: 'PS256' | 'RS512') {
  return importJWK(await exportJWK(rsa.privateKey), alg);
}
const claims = (extra: Record<string, unknown> = {}) => ({ iss: ISSUER, aud: RESOURCE, sub: 'alice', client_id: 'c1', scope: 'mcp:tools', ...extra });

beforeAll(async () => {
  rsa = await createTestKey('RS256');
  ec = await createTestKey('ES256');
  attackerKey = await createTestKey('ES256', 'attacker-kid');
  jwks = await startJwksServer([rsa.publicJwk, ec.publicJwk]);
  attacker = await startJwksServer([attackerKey.publicJwk]);
  verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url });
  ({ app } = mcpApp({ verifier: verify }));
  // Warm the JWKS so every case below is judged on the token alone.
  await verify(await mintAccessToken(ec, claims()));
});
afterAll(async () => {
  await jwks.close();
  await attacker.close();
});

/** The outcome over HTTP: status, and the challenge's error code (RFC 6750 §3.1). */
async function overHttp(token: string): Promise<{ status: number; error: string | undefined; challenge: string | undefined }> {
  const response = await request(app).post('/mcp').set('Authorization', `Bearer ${token}`).send({});
  const challenge = response.headers['www-authenticate'] as string | undefined;
  return { status: response.status, error: challenge ? challengeParams(challenge)['error'] : undefined, challenge };
}

async function refused(token: string): Promise<void> {
  await rejects(verify(token), InvalidTokenError, { status: 401, code: 'invalid_token' });
  const http = await overHttp(token);
  expect(http).toMatchObject({ status: 401, error: 'invalid_token' });
  // The challenge never reflects the token (S-22).
  expect(http.challenge).not.toContain(token);
}

describe('S-10 S-14 signature and header attacks', () => {
  it('S-14 alg "none" (unsigned, with and without a trailing signature) → 401 invalid_token', async () => {
    const header = b64({ alg: 'none', typ: 'at+jwt', kid: ec.kid });
    const payload = b64({ ...claims(), exp: now() + 300 });
    await refused(`${header}.${payload}.`);
    await refused(`${header}.${payload}.${b64('sig')}`);
    await refused(`${b64({ alg: 'NONE', typ: 'at+jwt' })}.${payload}.`);
  });

  it('S-14 HS256 signed with the RSA public key (SPKI PEM and JWK n as the HMAC secret) → 401', async () => {
    const pem = await exportSPKI((await importJWK(rsa.publicJwk, 'RS256')) as CryptoKey);
    for (const secret of [new TextEncoder().encode(pem), new TextEncoder().encode(JSON.stringify(rsa.publicJwk)), base64url.decode(rsa.publicJwk.n!)]) {
      const token = await new SignJWT({ ...claims() }).setProtectedHeader({ alg: 'HS256', kid: rsa.kid, typ: 'at+jwt' }).setExpirationTime('5m').sign(secret);
      await refused(token);
    }
  });

  it('S-14 an alg the key does not allow (RSA key published for RS256, token PS256/RS512) → 401', async () => {
    for (const alg of ['PS256', 'RS512'] as const) {
      await refused(await new SignJWT(claims()).setProtectedHeader({ alg, kid: rsa.kid, typ: 'at+jwt' }).setExpirationTime('5m').sign(await rsaAs(alg)));
    }
    // A verifier restricted to ES256 refuses a correctly signed RS256 token.
    const es256Only = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, algorithms: ['ES256'] });
    await rejects(es256Only(await mintAccessToken(rsa, claims())), InvalidTokenError, { status: 401 });
  });

  it('S-14 kid pointing nowhere, path-traversal and SQL-ish kids → 401, and the JWKS URL never changes', async () => {
    const before = jwks.requests;
    for (const kid of ['does-not-exist', '../../../../etc/passwd', '..%2f..%2fjwks', "' OR '1'='1' --", '"; DROP TABLE keys; --', 'a'.repeat(4096), '']) {
      await refused(await mintAccessToken(ec, claims(), { header: { kid } }));
    }
    // Unknown kids may refresh the JWKS (cooldown-bounded), always from the configured URL.
    expect(jwks.requests - before).toBeLessThanOrEqual(1);
  });

  it('S-14 RFC 8725 §3.10 jku / x5u / jwk headers naming the attacker\'s keys → 401; the attacker\'s server gets 0 requests', async () => {
    const { kid, ...embedded } = attackerKey.publicJwk;
    const headers: Record<string, unknown>[] = [
      { jku: attacker.url },
      { x5u: attacker.url },
      { jwk: embedded, kid: undefined },
      { jwk: attackerKey.publicJwk },
      { jku: attacker.url, kid: ec.kid }, // our kid, attacker's signature
      { jwk: { ...embedded, kid: ec.kid }, kid: ec.kid },
    ];
    for (const header of headers) await refused(await mintAccessToken(attackerKey, claims(), { header }));
    expect(attacker.requests).toBe(0);
  });

  it('S-14 crit headers (unknown extension, and a registered claim marked critical) → 401', async () => {
    // Signed correctly over the hostile header: only the crit rule can refuse these.
    for (const header of [{ crit: ['x-must-understand'], 'x-must-understand': true }, { crit: ['exp'] }, { crit: [] }, { crit: 'b64' }, { crit: ['b64'], b64: false }]) {
      await refused(await signCompact({ alg: 'ES256', kid: ec.kid, typ: 'at+jwt', ...header }, JSON.stringify({ ...claims(), exp: now() + 300 })));
    }
    // The attacker-chosen crit name is not reflected into the challenge's error_description.
    const marker = 'x-attacker-chosen-text';
    const reflected = await overHttp(await signCompact({ alg: 'ES256', kid: ec.kid, crit: [marker], [marker]: 1 }, JSON.stringify({ ...claims(), exp: now() + 300 })));
    expect(reflected).toMatchObject({ status: 401, error: 'invalid_token' });
    expect(reflected.challenge).not.toContain(marker);
    // Control: the same construction without crit is accepted, so the refusals above are the crit rule's.
    await expect(verify(await signCompact({ alg: 'ES256', kid: ec.kid, typ: 'at+jwt' }, JSON.stringify({ ...claims(), exp: now() + 300 })))).resolves.toMatchObject({ subject: 'alice' });
  });

  it('S-12 a token signed by another issuer\'s key that claims our iss (and our kid) → 401', async () => {
    await refused(await mintAccessToken(attackerKey, claims()));
    await refused(await mintAccessToken(attackerKey, claims(), { header: { kid: ec.kid } }));
    const otherIssuerRsa = await createTestKey('RS256', rsa.kid);
    await refused(await mintAccessToken(otherIssuerRsa, claims()));
  });
});

describe('S-11 S-12 audience', () => {
  it('S-11 wrong aud, missing aud, empty or non-string aud → 401', async () => {
    for (const aud of ['https://other.example/mcp', undefined, '', [], [42], { href: RESOURCE }, null]) {
      await refused(await mintAccessToken(ec, { ...claims(), aud } as never));
    }
  });

  it('S-11 aud as an array containing ours plus others → accepted (200), resource is ours', async () => {
    const token = await mintAccessToken(ec, claims({ aud: ['https://other.example/mcp', RESOURCE, 'urn:x'] }));
    const info = await verify(token);
    expect(info.resource?.href).toBe(RESOURCE);
    const response = await request(app).post('/mcp').set('Authorization', `Bearer ${token}`).send({});
    expect(response.status).toBe(200);
  });

  it('S-11 S-25 near misses are refused: trailing slash, other scheme, other port, other case, prefix, query, fragment', async () => {
    const nearMisses = [
      `${RESOURCE}/`,
      RESOURCE.replace('https:', 'http:'),
      RESOURCE.replace('.test/', '.test:8443/'),
      RESOURCE.replace('.test/', '.test:443/x/../'),
      RESOURCE.replace('/mcp', '/MCP'),
      `${RESOURCE}x`,
      RESOURCE.slice(0, -1),
      `${RESOURCE}?a=1`,
      `${RESOURCE}#f`,
      ` ${RESOURCE}`,
      'https://mcp.portcullis.test',
    ];
    for (const aud of nearMisses) await refused(await mintAccessToken(ec, claims({ aud })));
    for (const aud of nearMisses) await refused(await mintAccessToken(ec, claims({ aud: [aud] })));
  });
});

describe('S-14 time claims', () => {
  it('S-14 expired → 401; nbf in the future → 401; iat in the future → 401', async () => {
    await refused(await mintAccessToken(ec, claims({ exp: now() - 3600, iat: now() - 7200 })));
    await refused(await mintAccessToken(ec, claims({ nbf: now() + 3600 })));
    await refused(await mintAccessToken(ec, claims({ iat: now() + 3600 })));
  });

  it('S-14 non-numeric, missing or non-finite exp (1e400 parses to Infinity), non-finite nbf/iat → 401', async () => {
    for (const exp of ['9999999999', null, true, [now() + 60], { n: 1 }]) await refused(await mintAccessToken(ec, claims({ exp })));
    const { exp: _exp, ...rest } = { ...claims(), exp: 0 };
    await refused(await new SignJWT(rest).setProtectedHeader({ alg: 'ES256', kid: ec.kid }).sign(ec.privateKey));
    // A hand-built payload: JSON.parse('1e400') is Infinity, which is a "number" that never expires.
    for (const times of ['"exp":1e400', '"exp":-1e400', '"exp":-1', '"exp":0', `"exp":${now() + 300},"nbf":-1e400`, `"exp":${now() + 300},"iat":-1e400`]) {
      await refused(await signCompact({ alg: 'ES256', kid: ec.kid }, `{"iss":"${ISSUER}","aud":"${RESOURCE}","sub":"alice",${times}}`));
    }
  });

  it('S-14 exp absurdly far (year 9999) from a trusted key: accepted as issued, and a cache in front never reuses it past its maxTtl', async () => {
    const exp = 253_402_300_799; // 9999-12-31T23:59:59Z
    const token = await mintAccessToken(ec, claims({ exp }));
    const info = await verify(token);
    expect(info.expiresAt).toBe(exp);
    const response = await request(app).post('/mcp').set('Authorization', `Bearer ${token}`).send({});
    expect(response.status).toBe(200);
    let clock = new Date();
    const cached = cacheVerifiedTokens(verify, { maxTtl: 60, currentDate: () => clock });
    await cached(token);
    const before = jwks.requests;
    clock = new Date(clock.getTime() + 61_000);
    // Past maxTtl the inner verifier runs again (it still accepts: the key signed it).
    expect((await cached(token)).expiresAt).toBe(exp);
    expect(jwks.requests).toBe(before);
  });
});

describe('S-14 malformed tokens', () => {
  it('huge claims: a 6 MB token is refused by the verifier (401) without hanging; an 11 KB token is 400 at the 8 KiB header limit of bearerAuth', async () => {
    const hugeUnsigned = `${b64({ alg: 'ES256', kid: ec.kid })}.${b64({ ...claims(), pad: 'x'.repeat(6 * 1024 * 1024) })}.${b64('sig')}`;
    await rejects(verify(hugeUnsigned), InvalidTokenError, { status: 401 });
    const big = await mintAccessToken(ec, claims({ pad: 'x'.repeat(8 * 1024) }));
    const response = await request(app).post('/mcp').set('Authorization', `Bearer ${big}`).send({});
    expect(response.status).toBe(400);
    expect(challengeParams(response.headers['www-authenticate'])['error']).toBe('invalid_request');
  });

  it('non-JSON payloads (text, array, string, null, number, invalid UTF-8), correctly signed → 401', async () => {
    for (const payload of ['not json', '[1,2]', '"s"', 'null', '42', '{"exp":1e400', Uint8Array.of(0xff, 0xfe, 0x7b, 0x7d)]) {
      await refused(await signCompact({ alg: 'ES256', kid: ec.kid }, payload));
    }
    // A non-JSON header.
    const good = await mintAccessToken(ec, claims());
    await refused(`${b64('not json')}.${good.split('.')[1]}.${good.split('.')[2]}`);
  });

  it('bad base64url: padding, standard-alphabet characters, a dot-only and a truncated segment → 401 (or 400 when not token68)', async () => {
    const good = await mintAccessToken(ec, claims());
    const [h, p, s] = good.split('.') as [string, string, string];
    for (const token of [`${h}==.${p}.${s}`, `${h}.${p}.${s}=`, `${h.replace(/-/g, '+')}.${p}.${s}+/`, '..', `${h}.${p.slice(0, -3)}.${s}`, `${h}.${p}.${s.slice(0, 10)}`]) {
      await rejects(verify(token), InvalidTokenError, { status: 401 });
      const http = await overHttp(token);
      expect([400, 401]).toContain(http.status);
      expect(http.error).toBe(http.status === 400 ? 'invalid_request' : 'invalid_token');
    }
    // Characters outside token68 never reach the verifier: 400 invalid_request.
    expect(await overHttp(`${h}.${p}!.${s}`)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('3 (garbage), 4 and 6 segments → 401', async () => {
    const good = await mintAccessToken(ec, claims());
    for (const token of ['a.b.c', `${good}.x`, `${good}.x.y.z`, good.split('.').slice(0, 2).join('.'), 'abc']) await refused(token);
  });

  it('a JWE (5 segments) where a JWS is expected → 401, even encrypted to our own key', async () => {
    const publicKey = await importJWK(rsa.publicJwk, 'RSA-OAEP-256');
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ ...claims(), exp: now() + 300 })))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: rsa.kid, typ: 'at+jwt' })
      .encrypt(publicKey);
    expect(jwe.split('.')).toHaveLength(5);
    await refused(jwe);
    const dir = await new CompactEncrypt(new TextEncoder().encode('{}')).setProtectedHeader({ alg: 'dir', enc: 'A128GCM' }).encrypt(new Uint8Array(16));
    await refused(dir);
  });
});
