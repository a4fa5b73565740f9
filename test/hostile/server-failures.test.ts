/**
 * The authorization server's infrastructure failing under the resource server: a JWKS endpoint that
 * answers 500, invalid JSON, a huge body or nothing at all (before and after a first success), key
 * rotation, and an introspection endpoint that is down, slow or talks nonsense. Expected: known keys
 * keep working; unknown keys are 503 (cannot check) or 401 (checked: not there); an outage is 503
 * with Retry-After, never 401; nothing hangs past the configured timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createTestKey, mintAccessToken, startJwksServer, type JwksBehaviour, type JwksServer, type TestKey } from '@portcullis/test-fixtures';
import {
  createIntrospectionVerifier,
  createJwtVerifier,
  InvalidTokenError,
  VerifierUnavailableError,
  type TokenVerifier,
} from '@portcullis/token-verification';
import { ISSUER, listen, mcpApp, rejects, RESOURCE, type Listening } from './support.js';

const OUTAGES: readonly JwksBehaviour[] = ['error-500', 'invalid-json', 'huge', 'hang'];
const TIMEOUT = 400;

let k1: TestKey;
let k2: TestKey;
const claims = { iss: ISSUER, aud: RESOURCE, sub: 'alice', client_id: 'c1', scope: 'mcp:tools' };

beforeAll(async () => {
  k1 = await createTestKey('ES256');
  k2 = await createTestKey('ES256');
});

/** Asserts the HTTP answer of an outage: 503, Retry-After, no challenge (it is not the token's fault). */
async function expectOutageOverHttp(verifier: TokenVerifier, token: string): Promise<void> {
  const { app } = mcpApp({ verifier });
  const response = await request(app).post('/mcp').set('Authorization', `Bearer ${token}`).send({});
  expect(response.status).toBe(503);
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  expect(response.headers['www-authenticate']).toBeUndefined();
  expect(response.body.error).toBe('temporarily_unavailable');
  expect(response.text).not.toContain(token);
}

describe('JWKS endpoint outages', () => {
  let jwks: JwksServer;
  beforeAll(async () => {
    jwks = await startJwksServer([k1.publicJwk]);
  });
  afterAll(() => jwks.close());

  for (const behaviour of OUTAGES) {
    it(`JWKS ${behaviour} before the first successful fetch → 503 with Retry-After (never 401), bounded by the timeout`, async () => {
      jwks.behaviour = behaviour;
      try {
        const verifier = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, timeout: TIMEOUT, cooldown: 0 });
        const token = await mintAccessToken(k1, claims);
        await rejects(verifier(token), VerifierUnavailableError, { status: 503 });
        await expectOutageOverHttp(verifier, token);
      } finally {
        jwks.behaviour = 'ok';
      }
    });

    it(`JWKS ${behaviour} after a first success: the known key keeps verifying (200); an unknown kid is 503`, async () => {
      jwks.keys = [k1.publicJwk];
      // cacheMaxAge 0 and cooldown 0: every verification goes back to the endpoint, the worst case.
      const verifier = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, timeout: TIMEOUT, cooldown: 0, cacheMaxAge: 0 });
      const known = await mintAccessToken(k1, claims);
      await verifier(known);
      jwks.behaviour = behaviour;
      try {
        const requestsBefore = jwks.requests;
        await expect(verifier(known)).resolves.toMatchObject({ subject: 'alice' });
        expect(jwks.requests).toBeGreaterThan(requestsBefore); // it did try, and fell back to the known keys
        const { app } = mcpApp({ verifier });
        expect((await request(app).post('/mcp').set('Authorization', `Bearer ${known}`).send({})).status).toBe(200);
        const unknown = await mintAccessToken(k2, claims);
        await rejects(verifier(unknown), VerifierUnavailableError, { status: 503 });
        await expectOutageOverHttp(verifier, unknown);
      } finally {
        jwks.behaviour = 'ok';
      }
    });
  }

  it('a JWKS endpoint that is not listening at all → 503', async () => {
    const gone = await listen((_req, res) => res.end());
    await gone.close();
    const verifier = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: `${gone.url}/jwks`, timeout: TIMEOUT });
    await rejects(verifier(await mintAccessToken(k1, claims)), VerifierUnavailableError, { status: 503 });
  });

  it('JWKS answers that are JSON but not a key set ({}, [], keys: "x", keys: [1]) → 503, and a later good answer recovers', async () => {
    const answers = ['{}', '[]', '{"keys":"x"}', '{"keys":[1]}', 'null'];
    let next = 0;
    const server = await listen((_req, res) => {
      const body = next < answers.length ? answers[next++]! : JSON.stringify({ keys: [k1.publicJwk] });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    try {
      const verifier = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: `${server.url}/jwks`, timeout: TIMEOUT, cooldown: 0 });
      const token = await mintAccessToken(k1, claims);
      for (let i = 0; i < answers.length; i++) await rejects(verifier(token), VerifierUnavailableError, { status: 503 });
      await expect(verifier(token)).resolves.toMatchObject({ subject: 'alice' });
    } finally {
      await server.close();
    }
  });

  it('issuer metadata discovery failing (500, then an issuer mismatch) → 503, never 401', async () => {
    let mode: 'error' | 'mismatch' = 'error';
    const server = await listen((_req, res) => {
      if (mode === 'error') res.writeHead(500).end('boom');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: 'https://evil.example', jwks_uri: 'https://evil.example/jwks' }));
    });
    try {
      const verifier = createJwtVerifier({ issuer: server.url, audience: RESOURCE, timeout: TIMEOUT });
      const token = await mintAccessToken(k1, { ...claims, iss: server.url });
      await rejects(verifier(token), VerifierUnavailableError, { status: 503 });
      mode = 'mismatch';
      await rejects(verifier(token), VerifierUnavailableError, { status: 503 });
      expect(server.paths.every((p) => p.startsWith('/.well-known/'))).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('key rotation', () => {
  it('a new kid appears → fetched and accepted; the old kid removed → refused with 401 once the JWKS is re-read', async () => {
    const jwks = await startJwksServer([k1.publicJwk]);
    try {
      const verifier = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url, cooldown: 0, cacheMaxAge: 0 });
      const old = await mintAccessToken(k1, claims);
      await verifier(old);
      jwks.keys = [k1.publicJwk, k2.publicJwk];
      const fresh = await mintAccessToken(k2, claims);
      await expect(verifier(fresh)).resolves.toMatchObject({ subject: 'alice' });
      await expect(verifier(old)).resolves.toMatchObject({ subject: 'alice' });
      jwks.keys = [k2.publicJwk];
      await rejects(verifier(old), InvalidTokenError, { status: 401, code: 'invalid_token' });
      await expect(verifier(fresh)).resolves.toMatchObject({ subject: 'alice' });
    } finally {
      await jwks.close();
    }
  });

  it('with the default cooldown an unknown kid refetches at most once, however many requests carry it', async () => {
    const jwks = await startJwksServer([k1.publicJwk]);
    try {
      const verifier = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url });
      await verifier(await mintAccessToken(k1, claims));
      const before = jwks.requests;
      const unknown = await mintAccessToken(k2, claims);
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => verifier(unknown)));
      expect(results.every((r) => r.status === 'rejected' && r.reason instanceof InvalidTokenError)).toBe(true);
      expect(jwks.requests - before).toBeLessThanOrEqual(1);
    } finally {
      await jwks.close();
    }
  });
});

describe('introspection endpoint down, slow, or talking nonsense', () => {
  type Answer = { status: number; body: string; headers?: Record<string, string> } | 'hang';
  let answer: Answer;
  let server: Listening;
  const client = { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'rs-secret' } as const;
  const introspection = (extra: Record<string, unknown> = {}) =>
    createIntrospectionVerifier({ endpoint: `${server.url}/introspect`, issuer: ISSUER, audience: RESOURCE, client, timeout: TIMEOUT, ...extra });
  const active = (extra: Record<string, unknown> = {}) => JSON.stringify({ active: true, iss: ISSUER, aud: RESOURCE, sub: 'alice', scope: 'mcp:tools', exp: Math.floor(Date.now() / 1000) + 600, ...extra });

  beforeAll(async () => {
    server = await listen((req, res) => {
      req.resume();
      if (answer === 'hang') return;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body);
    });
  });
  afterAll(() => server.close());

  it('down (nothing listening) → 503 with Retry-After over HTTP', async () => {
    const gone = await listen((_req, res) => res.end());
    await gone.close();
    const verifier = createIntrospectionVerifier({ endpoint: `${gone.url}/introspect`, audience: RESOURCE, client, timeout: TIMEOUT });
    await rejects(verifier('opaque-token-1'), VerifierUnavailableError, { status: 503 });
    await expectOutageOverHttp(verifier, 'opaque-token-1');
  });

  it('slow (never answers) → 503 after the timeout, never a hang', async () => {
    answer = 'hang';
    await rejects(introspection()('opaque-token-2'), VerifierUnavailableError, { status: 503 });
  });

  const nonsense: [string, Answer][] = [
    ['HTTP 500', { status: 500, body: '{"error":"server_error"}' }],
    ['HTTP 401 invalid_client (our credentials)', { status: 401, body: '{"error":"invalid_client"}' }],
    ['HTTP 302 elsewhere', { status: 302, body: '', headers: { location: 'http://127.0.0.1:1/' } }],
    ['200 with text', { status: 200, body: 'hello', headers: { 'content-type': 'text/plain' } }],
    ['200 with invalid JSON', { status: 200, body: '{"active":' }],
    ['200 with a JSON array', { status: 200, body: '[{"active":true}]' }],
    ['200 with active as a string', { status: 200, body: '{"active":"true"}' }],
    ['200 without active', { status: 200, body: '{"sub":"alice"}' }],
    ['200 with a 100 KB body', { status: 200, body: JSON.stringify({ active: true, pad: 'x'.repeat(100 * 1024) }) }],
  ];
  for (const [name, reply] of nonsense) {
    it(`nonsense: ${name} → 503 (the AS is broken, the token is not judged)`, async () => {
      answer = reply;
      await rejects(introspection({ cache: false })(`opaque-${name}`), VerifierUnavailableError, { status: 503 });
    });
  }

  it('an upstream Retry-After is passed on; a garbage one falls back to the default', async () => {
    answer = { status: 503, body: '', headers: { 'retry-after': '30' } };
    const error = await rejects(introspection({ cache: false })('opaque-3'), VerifierUnavailableError);
    expect(error['retryAfter']).toBe(30);
    answer = { status: 503, body: '', headers: { 'retry-after': '-7, soon' } };
    const fallback = await rejects(introspection({ cache: false })('opaque-3'), VerifierUnavailableError);
    expect(fallback['retryAfter']).toBe(5);
  });

  it('well-formed answers are judged: active false, another audience, another issuer, expired → 401', async () => {
    for (const body of [
      '{"active":false}',
      active({ aud: 'https://other.example/mcp' }),
      active({ aud: `${RESOURCE}/` }),
      active({ iss: 'https://evil.example' }),
      active({ exp: 1 }),
      active({ token_type: 'DPoP' }),
    ]) {
      answer = { status: 200, body };
      await rejects(introspection({ cache: false })('opaque-4'), InvalidTokenError, { status: 401 });
    }
  });

  it('after a success, a cached token keeps working through an outage; a new token is 503', async () => {
    answer = { status: 200, body: active() };
    const verifier = introspection();
    await expect(verifier('opaque-cached')).resolves.toMatchObject({ subject: 'alice' });
    answer = { status: 500, body: '' };
    await expect(verifier('opaque-cached')).resolves.toMatchObject({ subject: 'alice' });
    await rejects(verifier('opaque-new'), VerifierUnavailableError, { status: 503 });
  });
});
