// What bearerAuth makes of what a verifier hands it: odd results and odd failures are still answered
// with the right status, never a hang, an unhandled rejection or a token let through.
import { describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { createJwtVerifier, VerifierUnavailableError, type AuthInfo, type TokenVerifier } from '@portcullis/token-verification';
import { createTestKey, mintAccessToken, startJwksServer, warningsOf } from '@portcullis/test-fixtures';
import { defineProtectedResource } from '@portcullis/protected-resource-metadata';
import { bearerAuth, type BearerAuthOptions } from '../src/index.js';
import { parseChallenge } from './support.js';

const ISSUER = 'https://as.portcullis.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';
const METADATA = 'https://mcp.portcullis.test/.well-known/oauth-protected-resource/mcp';

function app(options: Partial<BearerAuthOptions> & Pick<BearerAuthOptions, 'verifier'>) {
  const a = express();
  a.use('/mcp', bearerAuth({ resourceMetadataUrl: METADATA, audience: RESOURCE, ...options }));
  a.all('/mcp', (req, res) => {
    res.json({ resource: (req as unknown as { auth: AuthInfo }).auth.resource?.toString() });
  });
  a.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ handledBy: 'app-error-handler', message: err.message });
  });
  return a;
}

describe('bearerAuth and what its verifier returns', () => {
  // RFC 7517 §4.3 allows "sign" and "verify" together in key_ops, but WebCrypto refuses to import such a
  // member for verification: that, or a garbled private part, used to reach next(err) as a raw DOMException (500).
  it('S-14 S-15 RFC 7517 §4.3: a JWKS member with key_ops ["sign","verify"] verifies as the public key it is, not a 500', async () => {
    const key = await createTestKey('ES256');
    const jwks = await startJwksServer([{ ...key.publicJwk, key_ops: ['sign', 'verify'] }]);
    try {
      const verifier = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url });
      const token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'u' });
      const res = await request(app({ verifier })).post('/mcp').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
    } finally {
      await jwks.close();
    }
  });

  it('S-14 S-15 a JWKS member with an unreadable private part: 401 invalid_token with a challenge, not 500', async () => {
    const key = await createTestKey('ES256');
    const jwks = await startJwksServer([{ ...key.publicJwk, d: 'AAAA' }]);
    try {
      const verifier = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url });
      const token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'u' });
      const res = await request(app({ verifier })).post('/mcp').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(parseChallenge(res.headers['www-authenticate']).params['error']).toBe('invalid_token');
    } finally {
      await jwks.close();
    }
  });

  // An exception thrown after an asynchronous verification (audience, scopes) used to escape the
  // promise callback: no answer, no next(err), and an unhandled rejection that ends a Node process.
  it('an error after asynchronous verification (a result without scopes) reaches next(err): 500, not a hang', async () => {
    const verifier: TokenVerifier = async (token) => ({ token, clientId: 'c', claims: { aud: RESOURCE } }) as unknown as AuthInfo;
    const outcome = await request(app({ verifier, requiredScopes: ['mcp:tools'] }))
      .post('/mcp')
      .set('Authorization', 'Bearer abc')
      .timeout(3000)
      .then(
        (res) => res.status,
        (error: Error) => error.message,
      );
    expect(outcome).toBe(500);
  });

  // Defence in depth: a custom verifier that sets `resource` to a string (the MCP SDK type is URL)
  // used to skip the comparison on a fresh mount.
  it('S-11 a result whose resource is a string naming another resource is refused (401)', async () => {
    const verifier: TokenVerifier = async (token) =>
      ({ token, clientId: 'c', scopes: [], claims: { aud: 'https://other.portcullis.test/mcp' }, resource: 'https://other.portcullis.test/mcp' }) as unknown as AuthInfo;
    const res = await request(app({ verifier })).post('/mcp').set('Authorization', 'Bearer abc');
    expect(res.status).toBe(401);
  });

  it('S-11 a result whose resource is a string, with an aud naming this resource, is admitted by its aud', async () => {
    const verifier: TokenVerifier = async (token) =>
      ({ token, clientId: 'c', scopes: [], claims: { aud: RESOURCE }, resource: 'https://other.portcullis.test/mcp' }) as unknown as AuthInfo;
    const res = await request(app({ verifier })).post('/mcp').set('Authorization', 'Bearer abc');
    expect(res.status).toBe(200);
  });
});

describe('bearerAuth and a verifier that cannot verify (503)', () => {
  const outage: TokenVerifier = async () => {
    throw new VerifierUnavailableError('The JWKS endpoint cannot be reached', { cause: new Error('connect ECONNREFUSED 10.0.0.7:443') });
  };

  it('S-24 onUnavailable gets the reason and the request; the client gets only "retry"', async () => {
    const seen: { message: string; cause: string; url: string | undefined }[] = [];
    const onUnavailable = (error: VerifierUnavailableError, req: { url?: string | undefined } | undefined) =>
      void seen.push({ message: error.message, cause: (error.cause as Error).message, url: req?.url });
    const res = await request(app({ verifier: outage, onUnavailable })).post('/mcp').set('Authorization', 'Bearer abc');
    expect(res.status).toBe(503);
    expect(JSON.stringify(res.body)).not.toContain('JWKS');
    expect(seen).toEqual([{ message: 'The JWKS endpoint cannot be reached', cause: 'connect ECONNREFUSED 10.0.0.7:443', url: '/' }]);
  });

  it('S-24 by default the reason goes to console.error, once per distinct reason however many requests fail', async () => {
    const lines: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      const server = app({ verifier: outage });
      for (let i = 0; i < 3; i++) expect((await request(server).post('/mcp').set('Authorization', 'Bearer abc')).status).toBe(503);
    } finally {
      console.error = original;
    }
    expect(lines).toEqual(['bearerAuth() answered 503: The JWKS endpoint cannot be reached: connect ECONNREFUSED 10.0.0.7:443']);
  });

  it('a throwing onUnavailable does not cost the client its 503', async () => {
    const onUnavailable = () => {
      throw new Error('logger down');
    };
    expect((await request(app({ verifier: outage, onUnavailable })).post('/mcp').set('Authorization', 'Bearer abc')).status).toBe(503);
  });
});

describe('bearerAuth in front of its own metadata', () => {
  it('S-04 a metadata request that reaches it (metadata route missing, or behind it) is challenged as usual and said once', async () => {
    const warnings = await warningsOf(async () => {
      const a = express();
      a.use(bearerAuth({ verifier: async () => Promise.reject(new Error('unused')), resourceMetadataUrl: METADATA, audience: RESOURCE }));
      for (let i = 0; i < 2; i++) expect((await request(a).get('/.well-known/oauth-protected-resource/mcp')).status).toBe(401);
      expect((await request(a).get('/mcp')).status).toBe(401);
    });
    expect(warnings).toEqual([expect.stringContaining('bearerAuth() was asked for its own resource_metadata (/.well-known/oauth-protected-resource/mcp)')]);
  });
});

describe('bearerAuth and a verifier configured for something else', () => {
  const mcp = defineProtectedResource({ resource: RESOURCE, authorizationServers: [ISSUER] });

  it('S-11 a verifier for another audience is a start-up error, not a refusal of every request', () => {
    const verifier = createJwtVerifier({ issuer: ISSUER, audience: 'https://other.portcullis.test/mcp', jwks: { keys: [] } });
    expect(() => bearerAuth({ verifier, resource: mcp })).toThrow(
      expect.objectContaining({ code: 'ERR_RESOURCE_MISMATCH', message: expect.stringMatching(/accepts tokens for https:\/\/other\.portcullis\.test\/mcp, not for this resource/) }),
    );
  });

  it('C-08 a verifier trusting an issuer the metadata does not name (a trailing slash) is said once at start-up', async () => {
    const warnings = await warningsOf(() => {
      bearerAuth({ verifier: createJwtVerifier({ issuer: `${ISSUER}/`, audience: RESOURCE, jwks: { keys: [] } }), resource: mcp });
      bearerAuth({ verifier: createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: { keys: [] } }), resource: mcp });
    });
    expect(warnings).toEqual([expect.stringContaining('the verifier accepts tokens from https://as.portcullis.test/, but the resource names https://as.portcullis.test')]);
  });

  it('a verifier for this resource among others, from an issuer the metadata names, is accepted', () => {
    const verifier = createJwtVerifier({ issuer: ISSUER, audience: ['https://other.portcullis.test/mcp', RESOURCE], jwks: { keys: [] } });
    expect(() => bearerAuth({ verifier, resource: mcp })).not.toThrow();
  });
});

describe('bearerAuth and a verifier whose issuer is not the one clients discover', () => {
  // Microsoft Entra ID: clients discover the v2.0 issuer (its metadata says
  // issuer https://login.microsoftonline.com/{tenant}/v2.0), but an API whose manifest keeps
  // accessTokenAcceptedVersion 1 gets access tokens with iss https://sts.windows.net/{tenant}/.
  // The resource must publish the first and the verifier must check the second: token `iss` and the
  // authorization server a client discovers are not always one string.
  it('S-11 C-08 a verifier for the tokens\' iss, with the resource naming the issuer clients discover: 200', async () => {
    const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    const tokenIssuer = `https://sts.windows.net/${tenant}/`;
    const key = await createTestKey('RS256');
    const verifier = createJwtVerifier({ issuer: tokenIssuer, audience: RESOURCE, jwks: { keys: [key.publicJwk] } });
    const mcp = defineProtectedResource({ resource: RESOURCE, authorizationServers: [`https://login.microsoftonline.com/${tenant}/v2.0`] });
    const app = express();
    const warnings = await warningsOf(() => app.use('/mcp', bearerAuth({ verifier, resource: mcp })));
    expect(warnings).toEqual([expect.stringContaining(`the verifier accepts tokens from ${tokenIssuer}`)]);
    app.post('/mcp', (_req, res) => res.json({ ok: true }));
    const token = await mintAccessToken(key, { iss: tokenIssuer, aud: RESOURCE, sub: 'u', scope: 'mcp' }, { header: { typ: 'JWT' } });
    expect((await request(app).post('/mcp').set('Authorization', `Bearer ${token}`)).status).toBe(200);
  });
});

describe('one issuer URL object given to both packages', () => {
  // Both write a URL issuer the same way (its href without the slash of an empty path): one object, one issuer.
  it('C-08 issuer: new URL(ISSUER) in the verifier and in authorizationServers is one issuer: no start-up warning', async () => {
    const issuer = new URL('https://as.portcullis.test');
    const verifier = createJwtVerifier({ issuer, audience: RESOURCE, jwks: { keys: [] } });
    const mcp = defineProtectedResource({ resource: RESOURCE, authorizationServers: [issuer] });
    expect(await warningsOf(() => bearerAuth({ verifier, resource: mcp }))).toEqual([]);
  });
});

