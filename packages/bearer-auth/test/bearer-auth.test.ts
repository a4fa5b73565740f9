import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type http from 'node:http';
import express from 'express';
import request from 'supertest';
import {
  ConfigurationError,
  createJwtVerifier,
  InsufficientScopeError,
  InvalidTokenError,
  VerifierUnavailableError,
  type AuthInfo,
  type TokenVerifier,
} from '@portcullis/token-verification';
import { defineProtectedResource, protectedResourceMetadata } from '@portcullis/protected-resource-metadata';
import { createTestKey, JWT_RESOURCE, mintAccessToken, startJwksServer } from '@portcullis/test-fixtures';
import { bearerAuth, extractBearerToken, type BearerAuthOptions } from '../src/index.js';
import { METADATA_URL, parseChallenge, startFixture, type Fixture } from './support.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(() => fx.close());

function app(options: Partial<BearerAuthOptions> = {}) {
  const a = express();
  a.use(protectedResourceMetadata(fx.resource));
  a.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource, ...options }));
  a.all('/mcp', (req, res) => {
    const auth = (req as unknown as { auth: AuthInfo }).auth;
    res.json({ clientId: auth.clientId, scopes: auth.scopes, resource: auth.resource?.href });
  });
  a.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ handledBy: 'app', message: err.message });
  });
  return a;
}

/** Every challenge response: no-store, exposed to browsers, JSON body, resource_metadata. */
function expectChallengeBasics(res: request.Response, token?: string) {
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['access-control-expose-headers']).toMatch(/WWW-Authenticate/);
  const challenge = parseChallenge(res.headers['www-authenticate']);
  expect(challenge.scheme).toBe('Bearer');
  expect(challenge.params['resource_metadata']).toBe(METADATA_URL);
  if (token) {
    expect(res.text).not.toContain(token);
    expect(res.headers['www-authenticate']).not.toContain(token);
  }
  return challenge;
}

describe('bearerAuth with real tokens from oidc-provider', () => {
  it('S-10 S-11: accepts a real token for this resource and sets req.auth', async () => {
    const token = await fx.token('mcp:tools');
    const res = await request(app()).post('/mcp').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ clientId: 'machine-client', scopes: ['mcp:tools'], resource: JWT_RESOURCE });
  });

  it('RFC 6750 §2.1: the scheme is case-insensitive', async () => {
    const token = await fx.token('mcp:tools');
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      expect((await request(app()).get('/mcp').set('Authorization', `${scheme} ${token}`)).status).toBe(200);
    }
  });

  it('S-16 S-04 L-04: no credentials → 401, bare challenge with resource_metadata and no error code', async () => {
    const res = await request(app()).post('/mcp');
    expect(res.status).toBe(401);
    const challenge = expectChallengeBasics(res);
    expect(challenge.params).toEqual({ resource_metadata: METADATA_URL });
    expect(res.body.error).toBeUndefined();
    expect(res.body.error_description).toBe('No access token was presented');
  });

  it('S-06 S-07: the 401 challenge carries scope when configured, independent of scopes_supported', async () => {
    const res = await request(app({ requiredScopes: ['mcp:tools'] })).post('/mcp');
    expect(parseChallenge(res.headers['www-authenticate']).params).toEqual({ resource_metadata: METADATA_URL, scope: 'mcp:tools' });
    const explicit = await request(app({ challengeScopes: ['files:read', 'mcp:tools'] })).post('/mcp');
    expect(parseChallenge(explicit.headers['www-authenticate']).params['scope']).toBe('files:read mcp:tools');
  });

  it('S-04: the challenge URL is where the metadata is actually served, and it names the same resource (S-05)', async () => {
    const a = app();
    const challenge = parseChallenge((await request(a).post('/mcp')).headers['www-authenticate']);
    const url = new URL(challenge.params['resource_metadata']!);
    const doc = await request(a).get(url.pathname);
    expect(doc.status).toBe(200);
    expect(doc.body.resource).toBe(JWT_RESOURCE);
  });

  it('another authentication scheme counts as no bearer credentials: 401 with no error code', async () => {
    const res = await request(app()).post('/mcp').set('Authorization', 'Basic dXNlcjpwYXNz');
    expect(res.status).toBe(401);
    expect(expectChallengeBasics(res).params['error']).toBeUndefined();
  });

  it('S-14 S-16: a token signed by an unknown key → 401 invalid_token, never echoing the token', async () => {
    const key = await createTestKey('ES256');
    const forged = await mintAccessToken(key, { iss: fx.as.issuer, aud: JWT_RESOURCE, scope: 'mcp:tools', client_id: 'machine-client' });
    const res = await request(app()).post('/mcp').set('Authorization', `Bearer ${forged}`);
    expect(res.status).toBe(401);
    const challenge = expectChallengeBasics(res, forged);
    expect(challenge.params['error']).toBe('invalid_token');
    expect(res.body).toEqual({ error: 'invalid_token', error_description: expect.any(String) });
  });

  it('S-14: an expired token → 401 invalid_token', async () => {
    const key = await createTestKey('ES256');
    const jwks = await startJwksServer([key.publicJwk]);
    try {
      // The fixture AS's issuer (the resource names it), with a key of our own to sign an expired token.
      const verifier = createJwtVerifier({ issuer: fx.as.issuer, audience: JWT_RESOURCE, jwksUri: jwks.url });
      const expired = await mintAccessToken(key, { iss: fx.as.issuer, aud: JWT_RESOURCE, exp: Math.floor(Date.now() / 1000) - 600 });
      const res = await request(app({ verifier })).post('/mcp').set('Authorization', `Bearer ${expired}`);
      expect(res.status).toBe(401);
      expect(expectChallengeBasics(res, expired).params['error']).toBe('invalid_token');
    } finally {
      await jwks.close();
    }
  });

  it('S-11 S-12 B-01: a real token issued for another resource → 401 invalid_token', async () => {
    const other = defineProtectedResource({ resource: 'https://other.portcullis.test/mcp', authorizationServers: [fx.as.issuer] });
    const verifier = createJwtVerifier({ issuer: fx.as.issuer, audience: other.resource, jwksUri: `${fx.as.issuer}/jwks` });
    const token = await fx.token('mcp:tools'); // aud = JWT_RESOURCE
    const res = await request(app({ verifier, resource: other })).post('/mcp').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(parseChallenge(res.headers['www-authenticate']).params['error']).toBe('invalid_token');
  });

  it('S-11: a verifier result naming another resource is refused even if the verifier let it through', async () => {
    const token = await fx.token('mcp:tools');
    const elsewhere = 'https://elsewhere.example/mcp';
    const lax: TokenVerifier = async (t) => {
      const info = await fx.verifier(t);
      return { ...info, resource: new URL(elsewhere), claims: { ...info.claims, aud: elsewhere } };
    };
    const res = await request(app({ verifier: lax })).post('/mcp').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toMatch(/another resource/);
  });

  it('S-11 RFC 9068 §4: one verifier for two resources, a token for both: each mount admits it; a token for one, only that one', async () => {
    const second = defineProtectedResource({ resource: 'https://second.portcullis.test/mcp', authorizationServers: [fx.as.issuer] });
    const shared = createJwtVerifier({ issuer: fx.as.issuer, audience: [second.resource, fx.resource.resource], jwksUri: `${fx.as.issuer}/jwks` });
    const both = await fx.token('mcp:tools'); // aud = JWT_RESOURCE; made to name both below
    const asIssuedFor = (aud: string[]): TokenVerifier => async (t) => {
      const info = await shared(t);
      return { ...info, resource: new URL(aud[0]!), claims: { ...info.claims, aud } };
    };
    const status = async (verifier: TokenVerifier, resource: typeof second) =>
      (await request(app({ verifier, resource })).post('/mcp').set('Authorization', `Bearer ${both}`)).status;
    expect(await status(asIssuedFor([second.resource, JWT_RESOURCE]), second)).toBe(200);
    expect(await status(asIssuedFor([second.resource, JWT_RESOURCE]), fx.resource)).toBe(200);
    expect(await status(asIssuedFor([second.resource]), fx.resource)).toBe(401);
    // The real verifier: the token names JWT_RESOURCE only, so the second mount refuses it.
    expect(await status(shared, fx.resource)).toBe(200);
    expect(await status(shared, second)).toBe(401);
  });

  it('S-11: a verifier result with no resource is judged by its aud claim, and refused when it has none', async () => {
    const token = await fx.token('mcp:tools');
    const withAud = (aud: unknown): TokenVerifier => async (t) => {
      const { resource: _resource, ...info } = await fx.verifier(t);
      return { ...info, claims: aud === undefined ? {} : { aud } };
    };
    const status = async (aud: unknown) =>
      (await request(app({ verifier: withAud(aud) })).post('/mcp').set('Authorization', `Bearer ${token}`)).status;
    expect(await status(JWT_RESOURCE)).toBe(200);
    expect(await status(['https://other.example/api', JWT_RESOURCE])).toBe(200);
    expect(await status('other-api')).toBe(401);
    expect(await status(['https://elsewhere.example/mcp'])).toBe(401);
    expect(await status(undefined)).toBe(401);
  });

  it('S-11 S-25 RFC 7519 §2: an aud that names this resource only once URL parsing has repaired it is another resource (401)', async () => {
    const token = await fx.token('mcp:tools');
    const withAud = (aud: string): TokenVerifier => async (t) => {
      const { resource: _resource, ...info } = await fx.verifier(t);
      return { ...info, claims: { aud } };
    };
    const status = async (aud: string) => (await request(app({ verifier: withAud(aud) })).post('/mcp').set('Authorization', `Bearer ${token}`)).status;
    const { origin, pathname } = new URL(JWT_RESOURCE);
    // Only the case of scheme and host may differ (S-25).
    expect(await status(`${origin.toUpperCase()}${pathname}`)).toBe(200);
    for (const aud of [
      `${origin}/tenant-b/..${pathname}`,
      `${origin}/tenant-b/%2e%2e${pathname}`,
      ` ${JWT_RESOURCE}`,
      `${JWT_RESOURCE}\t`,
      `${origin}${pathname.replaceAll('/', '\\')}`,
      `${origin.replace('//', '')}${pathname}`,
    ]) {
      expect([aud, await status(aud)]).toEqual([aud, 401]);
    }
  });

  it('S-26: a token in the query string is never accepted: 400 invalid_request, even with a valid header', async () => {
    const token = await fx.token('mcp:tools');
    for (const req of [
      request(app()).post(`/mcp?access_token=${token}`),
      request(app()).post(`/mcp?access_token=${token}`).set('Authorization', `Bearer ${token}`),
    ]) {
      const res = await req;
      expect(res.status).toBe(400);
      expect(expectChallengeBasics(res, token).params['error']).toBe('invalid_request');
      expect(res.body.error).toBe('invalid_request');
    }
  });

  it('S-15 RFC 6750 §2: two Authorization headers → 400 invalid_request', async () => {
    const token = await fx.token('mcp:tools');
    const res = await request(app()).post('/mcp').set('Authorization', [`Bearer ${token}`, `Bearer ${token}`] as unknown as string);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'Only one Authorization header may be sent' });
  });

  it('RFC 6750 §2: a header plus a form-body access_token → 400; a body token alone → 400', async () => {
    const token = await fx.token('mcp:tools');
    const a = express();
    a.use(express.urlencoded({ extended: false }));
    a.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource }));
    a.post('/mcp', (_req, res) => {
      res.send('ok');
    });
    const both = await request(a).post('/mcp').set('Authorization', `Bearer ${token}`).type('form').send({ access_token: token });
    expect(both.status).toBe(400);
    expect(both.body.error_description).toMatch(/once/);
    const bodyOnly = await request(a).post('/mcp').type('form').send({ access_token: token });
    expect(bodyOnly.status).toBe(400);
    expect(bodyOnly.text).not.toContain(token);
    // The media type is case-insensitive and may carry parameters (RFC 9110 §8.3.1).
    const spelled = await request(a)
      .post('/mcp')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'Application/X-WWW-Form-Urlencoded; charset=utf-8')
      .send(`access_token=${token}`);
    expect(spelled.status).toBe(400);
  });

  it('RFC 6750 §2: a form Content-Type counts wherever it comes among the headers, not only first', () => {
    const req = (contentTypes: string[]) =>
      ({
        url: '/mcp',
        headers: {},
        body: { access_token: 'abc' },
        rawHeaders: [...contentTypes.flatMap((type) => ['Content-Type', type]), 'Authorization', 'Bearer abc'],
      }) as unknown as http.IncomingMessage;
    expect(extractBearerToken(req(['application/json']), 8192)).toBe('abc'); // a JSON field named access_token is data
    for (const types of [['application/x-www-form-urlencoded'], ['application/json', 'application/x-www-form-urlencoded']]) {
      expect(() => extractBearerToken(req(types), 8192)).toThrow(/both an Authorization header and a body access_token/);
    }
  });

  it('RFC 6750 §2.2: only a form-encoded body carries a token; a JSON body field named access_token is data', async () => {
    const token = await fx.token('mcp:tools');
    const a = express();
    a.use(express.json());
    a.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource }));
    a.post('/mcp', (_req, res) => {
      res.send('ok');
    });
    const withHeader = await request(a).post('/mcp').set('Authorization', `Bearer ${token}`).send({ access_token: 'data' });
    expect(withHeader.status).toBe(200);
    const bodyOnly = await request(a).post('/mcp').send({ access_token: token });
    expect(bodyOnly.status).toBe(401);
    expect(bodyOnly.headers['www-authenticate']).toMatch(/^Bearer /);
  });

  it('an oversized Authorization header → 400 before the verifier is called', async () => {
    let calls = 0;
    const counting: TokenVerifier = (t) => {
      calls++;
      return fx.verifier(t);
    };
    const res = await request(app({ verifier: counting, maxAuthorizationLength: 1000 }))
      .post('/mcp')
      .set('Authorization', `Bearer ${'a'.repeat(5000)}`);
    expect(res.status).toBe(400);
    expect(res.body.error_description).toBe('The Authorization header is too large');
    expect(calls).toBe(0);
    // the default limit is 8192 characters
    expect((await request(app({ verifier: counting })).post('/mcp').set('Authorization', `Bearer ${'a'.repeat(9000)}`)).status).toBe(400);
    expect(calls).toBe(0);
  });

  it.each([
    ['empty credentials', 'Bearer'],
    ['empty credentials with spaces', 'Bearer    '],
    ['not token68', 'Bearer abc def'],
    ['illegal characters', 'Bearer abc"def'],
    ['padding in the middle', 'Bearer ab=cd'],
    ['a comma', 'Bearer abc,def'],
  ])('S-15 token68 syntax: %s → 400 invalid_request, never verified', async (_name, header) => {
    let calls = 0;
    const counting: TokenVerifier = (t) => {
      calls++;
      return fx.verifier(t);
    };
    for (const verifier of [fx.verifier, counting]) {
      const res = await request(app({ verifier })).post('/mcp').set('Authorization', header);
      expect(res.status).toBe(400);
      expect(parseChallenge(res.headers['www-authenticate']).params['error']).toBe('invalid_request');
    }
    expect(calls).toBe(0);
  });

  it('S-17 S-19: insufficient scope → 403 insufficient_scope listing every needed scope in one challenge', async () => {
    const token = await fx.token('mcp:tools');
    const res = await request(app({ requiredScopes: ['mcp:tools', 'files:read', 'files:write'] }))
      .post('/mcp')
      .set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']!.match(/Bearer/g)).toHaveLength(1);
    const challenge = expectChallengeBasics(res, token);
    expect(challenge.params['error']).toBe('insufficient_scope');
    expect(challenge.params['scope']).toBe('mcp:tools files:read files:write');
    expect(res.body.error).toBe('insufficient_scope');
  });

  it('S-15 S-24: 503 + Retry-After when the verifier is unavailable, never 401, with no upstream detail for the caller', async () => {
    const down: TokenVerifier = async () => {
      throw new VerifierUnavailableError('Introspection at https://as.internal/introspect refused our credentials: invalid_client', { retryAfter: 7 });
    };
    const res = await request(app({ verifier: down })).post('/mcp').set('Authorization', 'Bearer abc');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: 'The authorization server cannot be reached; try again later' });
    expect(res.text).not.toMatch(/as\.internal|invalid_client/);
  });

  it('503 + Retry-After when the real verifier cannot reach the JWKS (a down AS never logs users out)', async () => {
    const jwks = await startJwksServer([]);
    await jwks.close();
    const verifier = createJwtVerifier({ issuer: fx.as.issuer, audience: JWT_RESOURCE, jwksUri: jwks.url });
    const token = await fx.token('mcp:tools');
    const res = await request(app({ verifier })).post('/mcp').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).not.toContain(token);
  });

  it('S-22: an error message that contains the token is not echoed', async () => {
    const leaky: TokenVerifier = async (t) => {
      throw new InvalidTokenError(`bad token ${t}`);
    };
    const res = await request(app({ verifier: leaky })).post('/mcp').set('Authorization', 'Bearer secret-token-value');
    expect(res.status).toBe(401);
    expect(res.text).not.toContain('secret-token-value');
    expect(res.headers['www-authenticate']).not.toContain('secret-token-value');
  });

  it('a verifier that throws InsufficientScopeError is answered 403 with its scopes', async () => {
    const picky: TokenVerifier = async () => {
      throw new InsufficientScopeError(['x:y']);
    };
    const res = await request(app({ verifier: picky })).post('/mcp').set('Authorization', 'Bearer abc');
    expect(res.status).toBe(403);
    expect(parseChallenge(res.headers['www-authenticate']).params['scope']).toBe('x:y');
  });

  it('errors that are not ours go to next(err)', async () => {
    const broken: TokenVerifier = async () => {
      throw new RangeError('database exploded');
    };
    const res = await request(app({ verifier: broken })).post('/mcp').set('Authorization', 'Bearer abc');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ handledBy: 'app', message: 'database exploded' });
  });

  it('a CORS preflight passes through without credentials', async () => {
    const a = express();
    a.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource }));
    a.options('/mcp', (_req, res) => {
      res.status(204).set('x-reached', 'yes').end();
    });
    const res = await request(a).options('/mcp').set('Origin', 'https://app.example').set('Access-Control-Request-Method', 'POST');
    expect(res.status).toBe(204);
    expect(res.headers['x-reached']).toBe('yes');
    // a plain OPTIONS is still authenticated
    expect((await request(a).options('/mcp')).status).toBe(401);
  });

  it('an OPTIONS that brings a bearer token is authenticated like any request, preflight headers or not', async () => {
    const a = express();
    a.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource }));
    a.options('/mcp', (req, res) => {
      res.status(204).set('x-client', (req as { auth?: { clientId: string } }).auth?.clientId ?? 'none').end();
    });
    const preflight = (authorization: string) =>
      request(a).options('/mcp').set('Origin', 'https://app.example').set('Access-Control-Request-Method', 'POST').set('Authorization', authorization);
    const refused = await preflight('Bearer not.a.token');
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
    const admitted = await preflight(`Bearer ${await fx.token('mcp:tools')}`);
    expect(admitted.status).toBe(204);
    expect(admitted.headers['x-client']).not.toBe('none');
  });

  it('S-30: every request is authorized on its own, no state carried between requests', async () => {
    const a = app();
    const token = await fx.token('mcp:tools');
    const agent = request.agent(a);
    expect((await agent.post('/mcp').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect((await agent.post('/mcp')).status).toBe(401);
  });
});

describe('bearerAuth configuration', () => {
  const verifier: TokenVerifier = async () => {
    throw new InvalidTokenError('x');
  };
  const resource = defineProtectedResource({ resource: 'https://mcp.example.com/mcp', authorizationServers: ['https://auth.example.com'], serveAtRoot: true });

  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['no verifier', { verifier: undefined as unknown as TokenVerifier }, 'ERR_INVALID_OPTIONS', /^verifier must be a function/],
    ['no resource and no resourceMetadataUrl (L-04)', { resource: undefined }, 'ERR_NO_RESOURCE_METADATA', /resource_metadata/],
    [
      'resourceMetadataUrl disagreeing with resource',
      { resourceMetadataUrl: 'https://mcp.example.com/.well-known/oauth-protected-resource/other' },
      'ERR_RESOURCE_MISMATCH',
      /^resourceMetadataUrl .* disagrees with resource/,
    ],
    ['audience disagreeing with resource', { audience: 'https://mcp.example.com/other' }, 'ERR_RESOURCE_MISMATCH', /^audience .* disagrees with resource/],
    [
      'audience and resourceMetadataUrl disagreeing without resource',
      { resource: undefined, audience: 'https://mcp.example.com/mcp', resourceMetadataUrl: 'https://other.example.com/.well-known/oauth-protected-resource/mcp' },
      'ERR_RESOURCE_MISMATCH',
      /^resourceMetadataUrl .* disagrees with audience/,
    ],
    ['insecure resourceMetadataUrl (S-23)', { resource: undefined, resourceMetadataUrl: 'http://mcp.example.com/x' }, 'ERR_INSECURE_URL', /^resourceMetadataUrl/],
    ['bad required scope', { requiredScopes: ['a b'] }, 'ERR_INVALID_SCOPES', /^requiredScopes/],
    // A misspelt option would leave its check off without a word: the scope check here.
    ['S-18 a misspelt option', { requiredScope: ['mcp:admin'] }, 'ERR_UNKNOWN_OPTION', /^bearerAuth\(\): unknown option "requiredScope" \(did you mean "requiredScopes"\?\)$/],
    ['an option of another library', { credentialsRequired: false }, 'ERR_UNKNOWN_OPTION', /^bearerAuth\(\): unknown option "credentialsRequired"$/],
    ['offline_access in the challenge (S-09)', { challengeScopes: ['offline_access'] }, 'ERR_INVALID_SCOPES', /^challengeScopes.*offline_access/],
    ['name map on a method without names', { operationScopes: { 'tools/list': { x: ['a'] } } }, 'ERR_INVALID_OPTIONS', /^operationScopes\['tools\/list'\]/],
    ['bad operation scope', { operationScopes: { 'tools/call': { x: ['a"b'] } } }, 'ERR_INVALID_SCOPES', /^operationScopes\['tools\/call'\]\['x'\]/],
    ['bad header limit', { maxAuthorizationLength: 0 }, 'ERR_INVALID_OPTIONS', /^maxAuthorizationLength/],
    ['bad hierarchy', { scopeHierarchy: { separator: '' } }, 'ERR_INVALID_OPTIONS', /^scopeHierarchy\.separator/],
  ];
  it.each(cases)('rejects %s at construction, naming the option', (_name, override, code, message) => {
    let error: unknown;
    try {
      bearerAuth({ verifier, resource, ...override } as BearerAuthOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe(code);
    expect((error as Error).message).toMatch(message);
  });

  it('accepts agreeing duplicates: the path-inserted or root metadata URL and an equivalent audience (S-25)', () => {
    expect(() =>
      bearerAuth({ verifier, resource, resourceMetadataUrl: resource.metadataUrl, audience: 'HTTPS://MCP.EXAMPLE.COM/mcp' }),
    ).not.toThrow();
    expect(() => bearerAuth({ verifier, resource, resourceMetadataUrl: 'https://mcp.example.com/.well-known/oauth-protected-resource' })).not.toThrow();
    expect(() =>
      bearerAuth({ verifier, audience: 'https://mcp.example.com/mcp', resourceMetadataUrl: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp' }),
    ).not.toThrow();
  });
});
