import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import {
  clientCredentialsToken,
  INTROSPECTOR,
  JWT_RESOURCE,
  MACHINE_CLIENT,
  OPAQUE_RESOURCE,
  startLocalServer,
  startTestAuthorizationServer,
  type DevAuthorizationServer,
} from '@portcullis/test-fixtures';
import {
  answerFromMemory,
  ConfigurationError,
  createIntrospectionVerifier,
  InvalidTokenError,
  VerifierUnavailableError,
  type IntrospectionVerifierOptions,
} from '../src/index.js';
import { checkResponse } from '../src/introspection-verifier.js';
import { readScopes } from '../src/scopes.js';
import { closedPortUrl, rejection } from './support.js';

const POST_CLIENT = { clientId: 'rs-post', clientSecret: 'rs-post-secret-0123456789abcdef0123456789' };
const basic = { method: 'client_secret_basic', clientId: INTROSPECTOR.clientId, clientSecret: INTROSPECTOR.clientSecret } as const;

describe('createIntrospectionVerifier against a real authorization server (oidc-provider)', () => {
  let as: DevAuthorizationServer;
  let jwtClientKey: CryptoKey;
  let jwtClientId: string;
  const introspections = () => as.requestCount('/token/introspection');

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    jwtClientKey = pair.privateKey;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'rs-key-1', alg: 'ES256', use: 'sig' };
    as = await startTestAuthorizationServer({
      clients: [
        {
          client_id: POST_CLIENT.clientId,
          client_secret: POST_CLIENT.clientSecret,
          grant_types: [],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
    });
    // Registered over HTTP (RFC 7591) rather than in the provider options: oidc-provider checks the
    // JWKS with a same-realm `constructor === Object` test that objects built inside Jest's VM fail.
    const registration = await fetch(`${as.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_types: [],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [publicJwk] },
      }),
    });
    expect(registration.status).toBe(201);
    jwtClientId = ((await registration.json()) as { client_id: string }).client_id;
  });
  afterAll(() => as.close());

  const verifier = (extra: Partial<IntrospectionVerifierOptions> = {}) =>
    createIntrospectionVerifier({ issuer: as.issuer, audience: OPAQUE_RESOURCE, client: basic, ...extra });

  it('S-10 S-11: verifies a real opaque token (endpoint discovered from RFC 8414 metadata) and yields the full AuthInfo', async () => {
    const issued = await clientCredentialsToken(as, { resource: OPAQUE_RESOURCE, scope: 'mcp:tools files:write' });
    const info = await verifier()(issued.access_token);
    const now = Math.floor(Date.now() / 1000);
    expect(info).toMatchObject({
      token: issued.access_token,
      clientId: MACHINE_CLIENT.clientId,
      scopes: ['mcp:tools', 'files:write'],
      resource: new URL(OPAQUE_RESOURCE),
      issuer: as.issuer,
      claims: expect.objectContaining({ active: true, aud: OPAQUE_RESOURCE }),
    });
    expect(info.expiresAt).toBeGreaterThan(now + 3500);
    expect(info.expiresAt).toBeLessThanOrEqual(now + 3600);
  });

  it.each([
    ['client_secret_post', () => ({ method: 'client_secret_post', ...POST_CLIENT }) as const],
    ['private_key_jwt', () => ({ method: 'private_key_jwt', clientId: jwtClientId, privateKey: jwtClientKey, kid: 'rs-key-1' }) as const],
  ])('authenticates to the introspection endpoint with %s', async (_name, client) => {
    const issued = await clientCredentialsToken(as, { resource: OPAQUE_RESOURCE, scope: 'mcp:tools' });
    await expect(verifier({ client: client() })(issued.access_token)).resolves.toMatchObject({ scopes: ['mcp:tools'], clientId: MACHINE_CLIENT.clientId });
  });

  it('acceptance: 100 concurrent verifications of one uncached opaque token make exactly 1 introspection request (counted at the AS)', async () => {
    const issued = await clientCredentialsToken(as, { resource: OPAQUE_RESOURCE, scope: 'mcp:tools' });
    const verify = verifier();
    await verify((await clientCredentialsToken(as, { resource: OPAQUE_RESOURCE })).access_token); // discovery out of the way
    const before = introspections();
    const results = await Promise.all(Array.from({ length: 100 }, () => verify(issued.access_token)));
    expect(introspections()).toBe(before + 1);
    expect(new Set(results.map((r) => r.clientId))).toEqual(new Set([MACHINE_CLIENT.clientId]));
    // …and the result is cached afterwards.
    await Promise.all(Array.from({ length: 100 }, () => verify(issued.access_token)));
    expect(introspections()).toBe(before + 1);
  });

  it('answers a token it introspected before from memory, without a promise or a request', async () => {
    const issued = await clientCredentialsToken(as, { resource: OPAQUE_RESOURCE, scope: 'mcp:tools' });
    const verify = verifier();
    const remembered = verify[answerFromMemory]!;
    expect(remembered(issued.access_token)).toBeUndefined();
    const verified = await verify(issued.access_token);
    const before = introspections();
    const fromMemory = remembered(issued.access_token);
    expect(fromMemory).toEqual(verified);
    expect(introspections()).toBe(before);
    expect(() => remembered('')).toThrow(InvalidTokenError);
  });

  it('caches for at most cache.maxTtl; cache: false asks every time', async () => {
    const issued = await clientCredentialsToken(as, { resource: OPAQUE_RESOURCE, scope: 'mcp:tools' });
    let clock = Date.now();
    const verify = verifier({ cache: { maxTtl: 60 }, currentDate: () => new Date(clock) });
    await verify(issued.access_token);
    const before = introspections();
    clock += 59_000;
    await verify(issued.access_token);
    expect(introspections()).toBe(before);
    clock += 2_000;
    await verify(issued.access_token);
    expect(introspections()).toBe(before + 1);

    const uncached = verifier({ cache: false });
    await uncached(issued.access_token);
    await uncached(issued.access_token);
    expect(introspections()).toBe(before + 3);
  });

  it('S-14: an unknown or revoked token is active:false → invalid_token (401)', async () => {
    await rejection(verifier()('not-a-token-this-as-issued'), InvalidTokenError, { status: 401, code: 'invalid_token' });
    const issued = await clientCredentialsToken(as, { resource: OPAQUE_RESOURCE, scope: 'mcp:tools' });
    const revoke = await fetch(`${as.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${MACHINE_CLIENT.clientId}:${MACHINE_CLIENT.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: issued.access_token }),
    });
    expect(revoke.status).toBe(200);
    await rejection(verifier()(issued.access_token), InvalidTokenError, { status: 401 });
  });

  it('S-11 S-12: an active token for another resource is rejected (aud checked on the response)', async () => {
    const issued = await clientCredentialsToken(as, { resource: OPAQUE_RESOURCE, scope: 'mcp:tools' });
    const error = await rejection(verifier({ audience: JWT_RESOURCE })(issued.access_token), InvalidTokenError, { status: 401 });
    expect(error.message).toMatch(/aud/);
  });

  it('S-14: a response from another issuer is rejected when issuer is configured', async () => {
    const issued = await clientCredentialsToken(as, { resource: OPAQUE_RESOURCE, scope: 'mcp:tools' });
    const verify = verifier({ issuer: 'http://127.0.0.1:1', endpoint: `${as.issuer}/token/introspection` });
    const error = await rejection(verify(issued.access_token), InvalidTokenError, { status: 401 });
    expect(error.message).toMatch(/iss/);
  });

  it('RFC 7662 §2.2: a JWT sent to an opaque-token resource (the AS answers 400 unsupported_token_type) is invalid_token (401), not 503, and not cached', async () => {
    const issued = await clientCredentialsToken(as, { resource: JWT_RESOURCE, scope: 'mcp:tools' });
    const verify = verifier();
    const before = introspections();
    const error = await rejection(verify(issued.access_token), InvalidTokenError, { status: 401, code: 'invalid_token' });
    expect(error.message).toMatch(/unsupported_token_type/);
    await rejection(verify(issued.access_token), InvalidTokenError, { status: 401 });
    expect(introspections()).toBe(before + 2);
  });

  it('wrong client credentials are a 503 (our misconfiguration), never a 401 for the user', async () => {
    const issued = await clientCredentialsToken(as, { resource: OPAQUE_RESOURCE, scope: 'mcp:tools' });
    const verify = verifier({ client: { ...basic, clientSecret: 'wrong-secret' } });
    await rejection(verify(issued.access_token), VerifierUnavailableError, { status: 503 });
  });
});

describe('createIntrospectionVerifier: an endpoint that is down, slow or nonsensical', () => {
  const RESOURCE = 'https://mcp.portcullis.test/mcp';
  const options = (endpoint: string, extra: Partial<IntrospectionVerifierOptions> = {}) =>
    createIntrospectionVerifier({ endpoint, audience: RESOURCE, client: basic, ...extra });

  it('an unreachable endpoint is verifier-unavailable (503)', async () => {
    const nowhere = await closedPortUrl();
    const error = await rejection(options(`${nowhere}/introspect`)('some-token'), VerifierUnavailableError, { status: 503, code: undefined });
    expect(error.message).toMatch(/could not be reached/);
  });

  it('a slow endpoint times out as verifier-unavailable (503)', async () => {
    const slow = await startLocalServer(() => undefined); // never answers
    try {
      const error = await rejection(options(`${slow.url}/introspect`, { timeout: 100 })('some-token'), VerifierUnavailableError, { status: 503 });
      expect(error.message).toMatch(/timed out/);
    } finally {
      await slow.close();
    }
  });

  it.each([
    ['HTTP 500', (res: import('node:http').ServerResponse) => res.writeHead(500).end('boom')],
    ['HTTP 503 with Retry-After', (res: import('node:http').ServerResponse) => res.writeHead(503, { 'retry-after': '17' }).end()],
    ['HTML with 200', (res: import('node:http').ServerResponse) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>')],
    ['JSON without active', (res: import('node:http').ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"scope":"a"}')],
    ['a redirect', (res: import('node:http').ServerResponse) => res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end()],
    ['an oversized body', (res: import('node:http').ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(`{"active":true,"x":"${'x'.repeat(100_000)}"}`)],
  ])('%s is verifier-unavailable (503) and is not cached', async (name, answer) => {
    const server = await startLocalServer((_req, res) => answer(res));
    try {
      const verify = options(`${server.url}/introspect`);
      const error = await rejection(verify('some-token'), VerifierUnavailableError, { status: 503 });
      if (name.includes('Retry-After')) expect(error.retryAfter).toBe(17);
      await rejection(verify('some-token'), VerifierUnavailableError, { status: 503 });
      expect(server.requests).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('caches a result no longer than the token exp, and sends token_type_hint with basic auth', async () => {
    const exp = 1_900_000_030;
    const bodies: string[] = [];
    const server = await startLocalServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(`${req.headers.authorization} ${body}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ active: true, aud: [RESOURCE], exp, scope: 'a b', client_id: 'c' }));
      });
    });
    try {
      let clock = (exp - 40) * 1000;
      const verify = options(`${server.url}/introspect`, { cache: { maxTtl: 3600 }, currentDate: () => new Date(clock) });
      await expect(verify('tok')).resolves.toMatchObject({ scopes: ['a', 'b'], clientId: 'c', expiresAt: exp, resource: new URL(RESOURCE) });
      clock = (exp - 1) * 1000;
      await verify('tok');
      expect(server.requests).toBe(1);
      clock = (exp + 10) * 1000;
      await rejection(verify('tok'), InvalidTokenError, { status: 401 }); // asked again, and now it is expired
      expect(server.requests).toBe(2);
      expect(bodies[0]).toMatch(/^Basic .+ token=tok&token_type_hint=access_token|^Basic .+ token_type_hint=access_token&token=tok/);
    } finally {
      await server.close();
    }
  });

  it('a caller that aborts stops waiting without failing the others sharing the request', async () => {
    let release: () => void = () => undefined;
    const server = await startLocalServer((_req, res) => {
      release = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ active: true, aud: RESOURCE }));
    });
    try {
      const verify = options(`${server.url}/introspect`);
      const controller = new AbortController();
      const aborted = verify('tok', { signal: controller.signal });
      const other = verify('tok');
      while (server.requests === 0) await new Promise((r) => setImmediate(r));
      controller.abort(new Error('client went away'));
      await expect(aborted).rejects.toThrow('client went away');
      release();
      await expect(other).resolves.toMatchObject({ resource: new URL(RESOURCE) });
      expect(server.requests).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('checkResponse (the pure half of introspection)', () => {
  const context = { audiences: ['https://rs.test/mcp'], issuer: 'https://as.test', now: 1000, clockTolerance: 5, readScopes: (c: Readonly<Record<string, unknown>>) => readScopes(c) };
  const good = { active: true, aud: 'https://rs.test/mcp', iss: 'https://as.test', exp: 2000, scope: 'x' };
  it.each([
    ['active false', { ...good, active: false }],
    ['active "true" (a string)', { ...good, active: 'true' }],
    ['expired', { ...good, exp: 990 }],
    ['nbf in the future', { ...good, nbf: 1010 }],
    ['another audience', { ...good, aud: 'https://other.test/mcp' }],
    ['no audience', { ...good, aud: undefined }],
    ['another issuer', { ...good, iss: 'https://evil.test' }],
    ['a refresh token', { ...good, token_type: 'refresh_token' }],
  ])('S-14: %s → InvalidTokenError', (_name, claims) => {
    expect(() => checkResponse(claims, context)).toThrow(InvalidTokenError);
  });
  it('accepts a good response; aud may be an array; exp within tolerance', () => {
    expect(checkResponse({ ...good, aud: ['a', 'https://rs.test/mcp'], exp: 997, token_type: 'Bearer' }, context)).toMatchObject({
      scopes: ['x'],
      resource: new URL('https://rs.test/mcp'),
      expiresAt: 997,
    });
  });
});

describe('createIntrospectionVerifier: configuration errors', () => {
  it.each([
    ['neither endpoint nor issuer', { audience: 'https://rs.test', client: basic }, /endpoint/],
    ['no client', { endpoint: 'https://as.test/i', audience: 'https://rs.test' }, /client/],
    ['an unknown method', { endpoint: 'https://as.test/i', audience: 'https://rs.test', client: { method: 'none', clientId: 'x' } }, /client\.method/],
    ['no secret', { endpoint: 'https://as.test/i', audience: 'https://rs.test', client: { method: 'client_secret_post', clientId: 'x' } }, /clientSecret/],
    ['private_key_jwt without issuer', { endpoint: 'https://as.test/i', audience: 'https://rs.test', client: { method: 'private_key_jwt', clientId: 'x', privateKey: {} } }, /issuer/],
    ['no audience', { endpoint: 'https://as.test/i', client: basic }, /audience/],
    ['an http endpoint on a public host', { endpoint: 'http://as.test/i', audience: 'https://rs.test', client: basic }, /endpoint/],
    ['a zero maxEntries', { endpoint: 'https://as.test/i', audience: 'https://rs.test', client: basic, cache: { maxEntries: 0 } }, /maxEntries/],
  ])('rejects %s', (_name, options, message) => {
    expect(() => createIntrospectionVerifier(options as never)).toThrow(ConfigurationError);
    expect(() => createIntrospectionVerifier(options as never)).toThrow(message);
  });
});

describe('createIntrospectionVerifier: DPoP-bound tokens and what a 503 may show', () => {
  const jsonAnswer = (status: number, body: unknown) => (async () => Response.json(body, { status })) as unknown as typeof fetch;
  const dpopBound = () => ({ active: true, token_type: 'DPoP', cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' }, aud: JWT_RESOURCE, iss: 'https://as.portcullis.test', sub: 'u', exp: Math.floor(Date.now() / 1000) + 60 });
  const verifierWith = (fetch: typeof globalThis.fetch, acceptSenderConstrained: boolean) =>
    createIntrospectionVerifier({
      endpoint: 'https://as.portcullis.test/introspect',
      issuer: 'https://as.portcullis.test',
      audience: JWT_RESOURCE,
      client: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'secret' },
      acceptSenderConstrained,
      fetch,
      cache: false,
    });

  it('X-12 RFC 9449 §6.2: with acceptSenderConstrained, an active token introspected as token_type DPoP with cnf is accepted', async () => {
    await expect(verifierWith(jsonAnswer(200, dpopBound()), true)('opaque-dpop-bound')).resolves.toMatchObject({ subject: 'u', claims: { cnf: { jkt: expect.any(String) } } });
  });

  it('S-11 RFC 9449 §6.2: without it, or without cnf, token_type DPoP is refused (401)', async () => {
    await rejection(verifierWith(jsonAnswer(200, dpopBound()), false)('opaque-dpop-bound'), InvalidTokenError);
    const { cnf: _cnf, ...unbound } = dpopBound();
    await rejection(verifierWith(jsonAnswer(200, unbound), true)('opaque-dpop-bound'), InvalidTokenError);
  });

  it('a VerifierUnavailableError (operator detail in its message) is not marked expose: true; a 401 is', async () => {
    const unavailable = await rejection(
      verifierWith(jsonAnswer(401, { error: 'invalid_client', error_description: 'client secret for rs@internal-host.corp expired' }), false)('opaque'),
      VerifierUnavailableError,
    );
    expect(unavailable.message).toMatch(/invalid_client/);
    expect(unavailable.expose).toBe(false);
    expect(new InvalidTokenError('x').expose).toBe(true);
  });
});
