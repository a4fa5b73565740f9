import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, sign } from 'node:crypto';
import { base64url, CompactSign, exportSPKI, importJWK, SignJWT, type CryptoKey } from 'jose';
import {
  clientCredentialsToken,
  createTestKey,
  JWT_RESOURCE,
  mintAccessToken,
  startJwksServer,
  startLocalServer,
  startTestAuthorizationServer,
  type DevAuthorizationServer,
  type JwksServer,
  type TestKey,
} from '@portcullis/test-fixtures';
import {
  ConfigurationError,
  createJwtVerifier,
  InvalidTokenError,
  VerifierUnavailableError,
  type JwtVerifierOptions,
} from '../src/index.js';
import { closedPortUrl, rejection } from './support.js';

const ISSUER = 'https://as.portcullis.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';

describe('createJwtVerifier against a real authorization server (oidc-provider)', () => {
  let as: DevAuthorizationServer;
  beforeAll(async () => {
    as = await startTestAuthorizationServer();
  });
  afterAll(() => as.close());

  it('S-10 S-11: verifies a real RFC 9068 token, discovering jwks_uri from RFC 8414 metadata, and yields the full AuthInfo', async () => {
    const issued = await clientCredentialsToken(as, { resource: JWT_RESOURCE, scope: 'mcp:tools files:read' });
    const verify = createJwtVerifier({ issuer: as.issuer, audience: JWT_RESOURCE, requireRfc9068: true });
    const before = as.requestCount('/.well-known/oauth-authorization-server');
    const info = await verify(issued.access_token);
    expect(info).toMatchObject({
      token: issued.access_token,
      clientId: 'machine-client',
      scopes: ['mcp:tools', 'files:read'],
      resource: new URL(JWT_RESOURCE),
      issuer: as.issuer,
    });
    expect(info.expiresAt).toBe(info.claims['exp']);
    expect(info.expiresAt! - Math.floor(Date.now() / 1000)).toBeGreaterThan(3500);
    expect(as.requestCount('/.well-known/oauth-authorization-server')).toBe(before + 1);
    // Discovery and the JWKS happen once per verifier, not per token.
    await verify(issued.access_token);
    expect(as.requestCount('/.well-known/oauth-authorization-server')).toBe(before + 1);
    expect(as.requestCount('/jwks')).toBe(1);
  });

  it('S-11: a real token for this AS but another audience is rejected with 401', async () => {
    const issued = await clientCredentialsToken(as, { resource: JWT_RESOURCE, scope: 'mcp:tools' });
    const verify = createJwtVerifier({ issuer: as.issuer, audience: 'https://other.portcullis.test/mcp', jwksUri: `${as.issuer}/jwks` });
    await rejection(verify(issued.access_token), InvalidTokenError, { status: 401, code: 'invalid_token' });
  });

  it('falls back to OIDC discovery when the RFC 8414 document is missing, and checks its issuer exactly', async () => {
    const proxy = await startLocalServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: proxyUrl, jwks_uri: `${as.issuer}/jwks` }));
      } else res.writeHead(404).end();
    });
    const proxyUrl = proxy.url;
    try {
      const key = await createTestKey('ES256');
      const verify = createJwtVerifier({ issuer: proxy.url, audience: RESOURCE });
      // The key is not in the AS's JWKS: getting as far as "no matching key" proves discovery worked.
      const token = await mintAccessToken(key, { iss: proxy.url, aud: RESOURCE, sub: 'u' });
      await rejection(verify(token), InvalidTokenError, { status: 401 });
      expect(proxy.requests).toBe(2); // RFC 8414 (404), then OIDC
    } finally {
      await proxy.close();
    }
  });
});

describe('createJwtVerifier with minted tokens and a local JWKS server', () => {
  let es: TestKey;
  let rsa: TestKey;
  let jwks: JwksServer;
  const base = (extra: Partial<JwtVerifierOptions> = {}) =>
    createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, ...extra } as JwtVerifierOptions);
  const claims = { iss: ISSUER, aud: RESOURCE, sub: 'user-1', client_id: 'client-1', scope: 'mcp:tools files:read' };

  beforeAll(async () => {
    es = await createTestKey('ES256');
    rsa = await createTestKey('RS256');
    jwks = await startJwksServer([es.publicJwk, rsa.publicJwk]);
  });
  afterAll(() => jwks.close());

  it('S-10: accepts a valid token and yields scopes, clientId, expiresAt, resource, subject, issuer and claims', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const token = await mintAccessToken(rsa, { ...claims, exp });
    const info = await base()(token);
    expect(info).toEqual({
      token,
      clientId: 'client-1',
      scopes: ['mcp:tools', 'files:read'],
      expiresAt: exp,
      resource: new URL(RESOURCE),
      subject: 'user-1',
      issuer: ISSUER,
      claims: expect.objectContaining({ ...claims, exp }),
    });
  });

  it('reads scp (array or string), falls back to azp for clientId, and to "" when no client is named', async () => {
    const verify = base();
    const a = await verify(await mintAccessToken(es, { iss: ISSUER, aud: RESOURCE, scp: ['a', 'b'], azp: 'azp-client' }));
    expect(a).toMatchObject({ scopes: ['a', 'b'], clientId: 'azp-client' });
    const b = await verify(await mintAccessToken(es, { iss: ISSUER, aud: RESOURCE, scope: 'a', scp: 'b a' }));
    expect(b).toMatchObject({ scopes: ['a', 'b'], clientId: '' });
  });

  it('maps scopes from other claims (permissions) with scopeClaims, or with a function', async () => {
    const token = await mintAccessToken(es, { ...claims, permissions: ['read:files'], roles: ['admin'] });
    expect((await base({ scopeClaims: ['permissions'] })(token)).scopes).toEqual(['read:files']);
    expect((await base({ scopeClaims: (c) => (c['roles'] as string[]).map((r) => `role:${r}`) })(token)).scopes).toEqual(['role:admin']);
  });

  it('S-11: with several audiences, aud must contain one of them and the one that matched becomes resource', async () => {
    const other = 'https://other.portcullis.test/mcp';
    const verify = base({ audience: [other, RESOURCE] });
    const info = await verify(await mintAccessToken(es, { ...claims, aud: ['https://unrelated.test', RESOURCE] }));
    expect(info.resource).toEqual(new URL(RESOURCE));
    const info2 = await verify(await mintAccessToken(es, { ...claims, aud: other }));
    expect(info2.resource).toEqual(new URL(other));
  });

  it('S-11 S-14: rejects a token for another audience with invalid_token (401)', async () => {
    const token = await mintAccessToken(es, { ...claims, aud: 'https://other.portcullis.test/mcp' });
    await rejection(base()(token), InvalidTokenError, { status: 401, code: 'invalid_token' });
  });

  it('S-12: rejects a token without aud', async () => {
    const { aud: _aud, ...noAud } = claims;
    await rejection(base()(await mintAccessToken(es, noAud)), InvalidTokenError, { status: 401 });
  });

  it('S-14: rejects a token from another issuer (exact iss match: no trailing-slash leniency)', async () => {
    await rejection(base()(await mintAccessToken(es, { ...claims, iss: 'https://evil.test' })), InvalidTokenError, { status: 401 });
    await rejection(base()(await mintAccessToken(es, { ...claims, iss: `${ISSUER}/` })), InvalidTokenError, { status: 401 });
  });

  it('S-14: rejects an expired token; accepts one expired within clockTolerance (time set through currentDate)', async () => {
    const exp = 1_900_000_000;
    const token = await mintAccessToken(es, { ...claims, iat: exp - 300, exp });
    const at = (seconds: number) => base({ currentDate: new Date(seconds * 1000) });
    const error = await rejection(at(exp + 6)(token), InvalidTokenError, { status: 401, code: 'invalid_token' });
    expect(error.message).toMatch(/expired/);
    await expect(at(exp + 4)(token)).resolves.toMatchObject({ expiresAt: exp });
    await rejection(base({ currentDate: new Date((exp + 1) * 1000), clockTolerance: 0 })(token), InvalidTokenError);
  });

  it('S-14: rejects nbf in the future and iat in the future beyond the tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    await rejection(base()(await mintAccessToken(es, { ...claims, nbf: now + 60 })), InvalidTokenError, { status: 401 });
    await rejection(base()(await mintAccessToken(es, { ...claims, iat: now + 60, exp: now + 600 })), InvalidTokenError, { status: 401 });
    await expect(base()(await mintAccessToken(es, { ...claims, nbf: now + 3 }))).resolves.toBeDefined();
  });

  it('S-14: rejects a token without exp', async () => {
    const token = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', kid: es.kid, typ: 'at+jwt' }).sign(es.privateKey);
    const error = await rejection(base()(token), InvalidTokenError, { status: 401 });
    expect(error.message).toMatch(/exp/);
  });

  it('S-14: rejects exp / nbf / iat that are not finite (1e400 in the JSON parses to Infinity)', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const times of [`"exp":1e400`, `"exp":${now + 300},"nbf":-1e400`, `"exp":${now + 300},"iat":-1e400`]) {
      const payload = `{"iss":"${ISSUER}","aud":"${RESOURCE}","sub":"user-1",${times}}`;
      const token = await new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'ES256', kid: es.kid }).sign(es.privateKey);
      const error = await rejection(base()(token), InvalidTokenError, { status: 401 });
      expect(error.message).toMatch(/finite/);
    }
  });

  it('S-14: rejects an unrecognised crit header without echoing its attacker-chosen name', async () => {
    const now = Math.floor(Date.now() / 1000);
    const input = `${base64url.encode(JSON.stringify({ alg: 'ES256', kid: es.kid, crit: ['x-evil-text'], 'x-evil-text': 1 }))}.${base64url.encode(JSON.stringify({ ...claims, exp: now + 300 }))}`;
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, es.privateKey, new TextEncoder().encode(input));
    const error = await rejection(base()(`${input}.${base64url.encode(new Uint8Array(signature))}`), InvalidTokenError, { status: 401 });
    expect(error.message).not.toContain('x-evil-text');
  });

  it('S-14: rejects alg "none" (an unsigned token)', async () => {
    const encode = (v: object) => base64url.encode(JSON.stringify(v));
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode({ ...claims, exp: now + 300 })}.`;
    await rejection(base()(unsigned), InvalidTokenError, { status: 401 });
    await rejection(createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [es.publicJwk] } })(unsigned), InvalidTokenError, { status: 401 });
  });

  it('S-14: rejects HS256 signed with the RSA public key as the HMAC secret (algorithm confusion)', async () => {
    const publicKey = (await importJWK(rsa.publicJwk, 'RS256')) as CryptoKey;
    const pem = await exportSPKI(publicKey);
    for (const secret of [new TextEncoder().encode(pem), new TextEncoder().encode(JSON.stringify(rsa.publicJwk))]) {
      const forged = await new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'HS256', kid: rsa.kid, typ: 'at+jwt' })
        .setExpirationTime('5m')
        .sign(secret);
      await rejection(base()(forged), InvalidTokenError, { status: 401 });
    }
  });

  it('S-14: rejects a tampered payload (signature no longer matches)', async () => {
    const token = await mintAccessToken(es, { ...claims, scope: 'mcp:tools' });
    const [header, , signature] = token.split('.');
    const payload = base64url.encode(JSON.stringify({ ...claims, scope: 'mcp:tools mcp:admin', exp: Math.floor(Date.now() / 1000) + 300 }));
    const error = await rejection(base()(`${header}.${payload}.${signature}`), InvalidTokenError, { status: 401 });
    expect(error.message).toMatch(/signature/);
  });

  it('S-14: rejects garbage and empty tokens with invalid_token', async () => {
    await rejection(base()('not-a-jwt'), InvalidTokenError, { status: 401 });
    await rejection(base()(''), InvalidTokenError, { status: 401 });
  });

  it('strict RFC 9068 mode: rejects a wrong typ and missing required claims; accepts application/at+jwt', async () => {
    const strict = base({ requireRfc9068: true });
    const jti = 'id-1';
    await rejection(strict(await mintAccessToken(es, claims, { header: { typ: 'JWT' } })), InvalidTokenError, { status: 401 });
    await rejection(strict(await mintAccessToken(es, claims, { header: { typ: undefined } })), InvalidTokenError, { status: 401 });
    const { client_id: _c, ...noClient } = claims;
    await rejection(strict(await mintAccessToken(es, noClient)), InvalidTokenError, { status: 401 });
    const { sub: _s, ...noSub } = claims;
    await rejection(strict(await mintAccessToken(es, noSub)), InvalidTokenError, { status: 401 });
    await expect(strict(await mintAccessToken(es, { ...claims, jti }, { header: { typ: 'application/at+jwt' } }))).resolves.toBeDefined();
    // Outside strict mode a plain JWT typ is accepted (most providers).
    await expect(base()(await mintAccessToken(es, claims, { header: { typ: 'JWT' } }))).resolves.toBeDefined();
  });

  it('never follows jku / x5u nor trusts an embedded jwk header (RFC 8725 §3.10)', async () => {
    const attacker = await createTestKey('ES256', es.kid); // same kid, different key
    const attackerJwks = await startJwksServer([attacker.publicJwk]);
    try {
      const token = await mintAccessToken(attacker, claims, {
        header: { jku: attackerJwks.url, x5u: attackerJwks.url, jwk: attacker.publicJwk },
      });
      await rejection(base()(token), InvalidTokenError, { status: 401 });
      expect(attackerJwks.requests).toBe(0);
    } finally {
      await attackerJwks.close();
    }
  });

  it('verifies with a local JWKS and with an explicit HMAC secret (HS* only then)', async () => {
    await expect(
      createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [es.publicJwk] } })(await mintAccessToken(es, claims)),
    ).resolves.toMatchObject({ clientId: 'client-1' });
    const secret = 'a-shared-secret-of-at-least-32-bytes!!';
    const hs = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(secret));
    const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, secret });
    await expect(verify(hs)).resolves.toMatchObject({ scopes: ['mcp:tools', 'files:read'] });
    // An HMAC verifier does not accept asymmetric tokens either.
    await rejection(verify(await mintAccessToken(es, claims)), InvalidTokenError, { status: 401 });
  });
});

describe('createJwtVerifier: the JWKS endpoint, its cooldown and its outages', () => {
  const claims = { iss: ISSUER, aud: RESOURCE, sub: 'user-1', client_id: 'client-1', scope: 'mcp:tools' };

  it('an unknown kid refetches the JWKS at most once per cooldown, then is invalid_token', async () => {
    const key = await createTestKey('ES256');
    const jwks = await startJwksServer([key.publicJwk]);
    try {
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url });
      await verify(await mintAccessToken(key, claims));
      expect(jwks.requests).toBe(1);
      const stranger = await createTestKey('ES256');
      const unknown = await mintAccessToken(stranger, claims);
      for (let i = 0; i < 5; i++) await rejection(verify(unknown), InvalidTokenError, { status: 401 });
      expect(jwks.requests).toBe(1); // inside the default 30 s cooldown: no refetch at all
    } finally {
      await jwks.close();
    }
  });

  it.each([
    ['an RSA key under 2048 bits (RFC 8725 §3.5)', 'weak'],
    ['a key node:crypto cannot read', 'broken'],
  ])('a token signed with %s in the JWKS is invalid_token (401), not an untyped error; the good keys still verify', async (_title, kind) => {
    const good = await createTestKey('ES256');
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weakJwk = { ...publicKey.export({ format: 'jwk' }), kid: 'odd', alg: 'RS256', use: 'sig' };
    const odd = kind === 'weak' ? weakJwk : { ...weakJwk, n: 'not-a-modulus', e: '' };
    const jwks = await startJwksServer([good.publicJwk, odd]);
    try {
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url });
      // jose will not sign with such a key: signed here with node:crypto.
      const now = Math.floor(Date.now() / 1000);
      const input = `${base64url.encode(JSON.stringify({ alg: 'RS256', kid: 'odd', typ: 'at+jwt' }))}.${base64url.encode(JSON.stringify({ ...claims, iat: now, exp: now + 600 }))}`;
      const token = `${input}.${base64url.encode(sign('sha256', Buffer.from(input), privateKey))}`;
      await rejection(verify(token), InvalidTokenError, { status: 401 });
      await expect(verify(await mintAccessToken(good, claims))).resolves.toMatchObject({ clientId: 'client-1' });
    } finally {
      await jwks.close();
    }
  });

  it('after the cooldown an unknown kid triggers one refetch, which picks up a rotated key', async () => {
    const key = await createTestKey('ES256');
    const jwks = await startJwksServer([key.publicJwk]);
    try {
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, cooldown: 0 });
      await verify(await mintAccessToken(key, claims));
      const stranger = await createTestKey('ES256');
      await rejection(verify(await mintAccessToken(stranger, claims)), InvalidTokenError, { status: 401 });
      expect(jwks.requests).toBe(2);
      const rotated = await createTestKey('ES256');
      jwks.keys = [key.publicJwk, rotated.publicJwk];
      await expect(verify(await mintAccessToken(rotated, claims))).resolves.toMatchObject({ clientId: 'client-1' });
      expect(jwks.requests).toBe(3);
    } finally {
      await jwks.close();
    }
  });

  it('acceptance: after the JWKS was fetched once and the endpoint goes down, known keys still verify', async () => {
    const key = await createTestKey('ES256');
    const jwks = await startJwksServer([key.publicJwk]);
    try {
      // cacheMaxAge 0 and cooldown 0: every verification tries to refresh, so the outage is really hit.
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, cacheMaxAge: 0, cooldown: 0, timeout: 200 });
      await verify(await mintAccessToken(key, claims));
      for (const behaviour of ['error-500', 'invalid-json', 'huge', 'hang'] as const) {
        jwks.behaviour = behaviour;
        const before = jwks.requests;
        await expect(verify(await mintAccessToken(key, claims))).resolves.toMatchObject({ clientId: 'client-1' });
        expect(jwks.requests).toBe(before + 1);
      }
      // A key never seen cannot be checked while the endpoint is down: 503, not 401.
      jwks.behaviour = 'error-500';
      const stranger = await createTestKey('ES256');
      await rejection(verify(await mintAccessToken(stranger, claims)), VerifierUnavailableError, { status: 503 });
      await jwks.close();
      await expect(verify(await mintAccessToken(key, claims))).resolves.toBeDefined();
    } finally {
      await jwks.close();
    }
  });

  it('after a failed refresh, known keys are served without retrying the endpoint during the cooldown', async () => {
    const key = await createTestKey('ES256');
    const jwks = await startJwksServer([key.publicJwk]);
    try {
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, cacheMaxAge: 0 });
      await verify(await mintAccessToken(key, claims));
      jwks.behaviour = 'error-500';
      for (let i = 0; i < 3; i++) await verify(await mintAccessToken(key, claims));
      expect(jwks.requests).toBe(2);
    } finally {
      await jwks.close();
    }
  });

  it.each([
    ['error-500', {}],
    ['invalid-json', {}],
    ['huge', {}],
    ['hang', { timeout: 100 }],
  ] as const)('a JWKS that is %s before any key is known is verifier-unavailable (503), never 401', async (behaviour, extra) => {
    const key = await createTestKey('ES256');
    const jwks = await startJwksServer([key.publicJwk]);
    jwks.behaviour = behaviour;
    try {
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, ...extra });
      const error = await rejection(verify(await mintAccessToken(key, claims)), VerifierUnavailableError, { status: 503, code: undefined });
      expect(error.retryAfter).toBeGreaterThan(0);
      // It recovers as soon as the endpoint does.
      jwks.behaviour = 'ok';
      await expect(verify(await mintAccessToken(key, claims))).resolves.toBeDefined();
    } finally {
      await jwks.close();
    }
  });

  it('an unreachable JWKS or issuer is verifier-unavailable (503)', async () => {
    const key = await createTestKey('ES256');
    const nowhere = await closedPortUrl();
    const token = await mintAccessToken(key, { ...claims, iss: nowhere });
    await rejection(createJwtVerifier({ issuer: nowhere, audience: RESOURCE, jwksUri: `${nowhere}/jwks` })(token), VerifierUnavailableError, { status: 503 });
    await rejection(createJwtVerifier({ issuer: nowhere, audience: RESOURCE })(token), VerifierUnavailableError, { status: 503 });
  });

  it('C-08: discovery refuses metadata whose issuer differs from the configured one (503)', async () => {
    const key = await createTestKey('ES256');
    const lying = await startLocalServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: 'https://evil.test', jwks_uri: 'https://evil.test/jwks' }));
    });
    try {
      const verify = createJwtVerifier({ issuer: lying.url, audience: RESOURCE });
      await rejection(verify(await mintAccessToken(key, { ...claims, iss: lying.url })), VerifierUnavailableError, { status: 503 });
      expect(lying.requests).toBe(1);
    } finally {
      await lying.close();
    }
  });

  it('uses an injected fetch for every request', async () => {
    const key = await createTestKey('ES256');
    const seen: string[] = [];
    const verify = createJwtVerifier({
      issuer: ISSUER,
      audience: RESOURCE,
      jwksUri: 'https://as.portcullis.test/jwks',
      fetch: async (input) => {
        seen.push(String(input));
        return Response.json({ keys: [key.publicJwk] });
      },
    });
    await verify(await mintAccessToken(key, claims));
    expect(seen).toEqual(['https://as.portcullis.test/jwks']);
  });
});

describe('createJwtVerifier: configuration errors at construction', () => {
  const ok = { issuer: ISSUER, audience: RESOURCE, jwksUri: 'https://as.portcullis.test/jwks' };
  it.each([
    ['"none" in algorithms', { ...ok, algorithms: ['none'] }, /none/],
    ['HS256 without a secret', { ...ok, algorithms: ['HS256'] }, /secret/],
    ['RS256 with a secret', { issuer: ISSUER, audience: RESOURCE, secret: 'x'.repeat(32), algorithms: ['RS256'] }, /only HS/],
    ['a short secret', { issuer: ISSUER, audience: RESOURCE, secret: 'short' }, /32 bytes/],
    ['two key sources', { ...ok, jwks: { keys: [] } }, /only one/],
    ['no audience', { issuer: ISSUER, jwksUri: ok.jwksUri }, /audience/],
    ['an empty audience list', { ...ok, audience: [] }, /audience/],
    ['no issuer', { audience: RESOURCE, jwksUri: ok.jwksUri }, /issuer/],
    ['an http JWKS on a public host', { ...ok, jwksUri: 'http://as.portcullis.test/jwks' }, /jwksUri.*https/],
    ['a negative clockTolerance', { ...ok, clockTolerance: -1 }, /clockTolerance/],
    ['an unknown algorithm', { ...ok, algorithms: ['XS256'] }, /unknown algorithm/],
  ])('rejects %s with a ConfigurationError naming the option', (_name, options, message) => {
    let caught: unknown;
    try {
      createJwtVerifier(options as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect(caught).toBeInstanceOf(TypeError);
    expect((caught as ConfigurationError).message).toMatch(message);
    expect((caught as ConfigurationError).code).toMatch(/^ERR_/);
  });

  it('accepts http on a non-loopback host only with allowInsecureHttp', () => {
    expect(() => createJwtVerifier({ ...ok, jwksUri: 'http://as.portcullis.test/jwks', allowInsecureHttp: true })).not.toThrow();
  });
});

describe('createJwtVerifier: infinite options and explicitly typed JWTs', () => {
  it.each(['clockTolerance', 'cooldown', 'cacheMaxAge', 'timeout'])('S-14 %s: Infinity is a ConfigurationError at construction', (option) => {
    expect(() => createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: 'https://as.portcullis.test/jwks', [option]: Infinity })).toThrow(ConfigurationError);
  });

  it.each(['logout+jwt', 'application/secevent+jwt', 'token-introspection+jwt', 'application/what+jwt'])(
    'RFC 8725 §3.11 RFC 9068 §4: a JWT typed %s is not an access token, even without requireRfc9068 (401)',
    async (typ) => {
      const key = await createTestKey('ES256');
      const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [key.publicJwk] } });
      const token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'u' }, { header: { typ } });
      await rejection(verify(token), InvalidTokenError);
    },
  );

  it.each(['at+jwt', 'application/AT+JWT', 'JWT', 'application/okta-internal-at+jwt'])('RFC 9068 §2.1: a JWT typed %s passes without requireRfc9068', async (typ) => {
    const key = await createTestKey('ES256');
    const verify = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [key.publicJwk] } });
    const token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'u' }, { header: { typ } });
    await expect(verify(token)).resolves.toMatchObject({ subject: 'u' });
  });
});
