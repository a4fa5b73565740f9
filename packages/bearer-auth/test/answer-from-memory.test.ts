import { describe, expect, it } from '@jest/globals';
import http from 'node:http';
import express from 'express';
import request from 'supertest';
import fc from 'fast-check';
import { answerFromMemory, InvalidTokenError, type AuthInfo, type TokenVerifier } from '@portcullis/token-verification';
import { bearerAuth, extractBearerToken, requireScopes } from '../src/index.js';
import { parseChallenge } from './support.js';

const RESOURCE = 'https://mcp.portcullis.test/mcp';
const METADATA = 'https://mcp.portcullis.test/.well-known/oauth-protected-resource/mcp';

/** A verifier that answers from memory for `known` tokens and counts what it is asked. */
function rememberingVerifier(answers: Record<string, () => AuthInfo>) {
  const calls = { memory: 0, async: 0 };
  const verify = async (token: string): Promise<AuthInfo> => {
    calls.async++;
    const answer = answers[token];
    if (!answer) throw new InvalidTokenError('unknown token');
    return answer();
  };
  const verifier: TokenVerifier = Object.assign(verify, {
    [answerFromMemory]: (token: string) => {
      calls.memory++;
      if (token === 'refused-on-sight') throw new InvalidTokenError('The access token is malformed');
      return token.startsWith('remembered') ? answers[token]?.() : undefined;
    },
  });
  return { verifier, calls };
}

function info(token: string, resource: URL, scopes = ['mcp:tools']): AuthInfo {
  return { token, clientId: 'app', scopes, claims: { aud: resource.href }, resource };
}

function appWith(verifier: TokenVerifier) {
  const app = express();
  app.use('/mcp', bearerAuth({ verifier, audience: RESOURCE, resourceMetadataUrl: METADATA }));
  app.all('/mcp', (req, res) => {
    res.json({ scopes: (req as unknown as { auth: AuthInfo }).auth.scopes });
  });
  return app;
}

describe("bearerAuth uses a verifier's answer from memory", () => {
  it('a remembered token is let in before the middleware returns, without awaiting the verifier', () => {
    const { verifier, calls } = rememberingVerifier({ 'remembered-1': () => info('remembered-1', new URL(RESOURCE)) });
    const middleware = bearerAuth({ verifier, audience: RESOURCE, resourceMetadataUrl: METADATA });
    const req = { method: 'GET', url: '/mcp', headers: {}, rawHeaders: ['Authorization', 'Bearer remembered-1'] } as unknown as http.IncomingMessage;
    let nextCalls = 0;
    middleware(req, {} as http.ServerResponse, () => nextCalls++);
    expect(nextCalls).toBe(1); // synchronously
    expect((req as unknown as { auth: AuthInfo }).auth.clientId).toBe('app');
    expect(calls).toEqual({ memory: 1, async: 0 });
  });

  it('S-14: a token refused on sight gets the 401 invalid_token challenge, and the verifier is not awaited', async () => {
    const { verifier, calls } = rememberingVerifier({});
    const res = await request(appWith(verifier)).get('/mcp').set('Authorization', 'Bearer refused-on-sight');
    expect(res.status).toBe(401);
    expect(parseChallenge(res.headers['www-authenticate']).params).toMatchObject({ error: 'invalid_token', resource_metadata: METADATA });
    expect(calls.async).toBe(0);
  });

  it('no answer from memory: the verifier is awaited as before', async () => {
    const { verifier, calls } = rememberingVerifier({ 'fresh-1': () => info('fresh-1', new URL(RESOURCE)) });
    const res = await request(appWith(verifier)).get('/mcp').set('Authorization', 'Bearer fresh-1');
    expect(res.status).toBe(200);
    expect(calls).toEqual({ memory: 1, async: 1 });
  });

  it('S-11: an answer from memory for another resource is refused like any other', async () => {
    const { verifier } = rememberingVerifier({ 'remembered-other': () => info('remembered-other', new URL('https://other.portcullis.test/mcp')) });
    const res = await request(appWith(verifier)).get('/mcp').set('Authorization', 'Bearer remembered-other');
    expect(res.status).toBe(401);
    expect(parseChallenge(res.headers['www-authenticate']).params['error']).toBe('invalid_token');
  });

  it('S-11: a mutable resource URL accepted once is judged again when it later names another resource', async () => {
    const shared = new URL(RESOURCE); // one object, changed between requests by a careless verifier
    const { verifier } = rememberingVerifier({ 'remembered-shared': () => info('remembered-shared', shared) });
    const app = appWith(verifier);
    expect((await request(app).get('/mcp').set('Authorization', 'Bearer remembered-shared')).status).toBe(200);
    shared.hostname = 'other.portcullis.test';
    expect((await request(app).get('/mcp').set('Authorization', 'Bearer remembered-shared')).status).toBe(401);
  });

  it('S-17 S-19: scopes still apply to an answer from memory, and requireScopes sees the mount', async () => {
    const { verifier } = rememberingVerifier({ 'remembered-narrow': () => info('remembered-narrow', new URL(RESOURCE), ['mcp:tools']) });
    const app = express();
    app.use('/mcp', bearerAuth({ verifier, audience: RESOURCE, resourceMetadataUrl: METADATA, requiredScopes: ['mcp:tools'] }));
    app.get('/mcp/admin', requireScopes('mcp:admin'), (_req, res) => res.json({ ok: true }));
    const res = await request(app).get('/mcp/admin').set('Authorization', 'Bearer remembered-narrow');
    expect(res.status).toBe(403);
    expect(parseChallenge(res.headers['www-authenticate']).params).toMatchObject({ error: 'insufficient_scope', scope: 'mcp:tools mcp:admin' });
  });
});

describe('remembered challenges', () => {
  it('each refusal carries its own description, also past the number of texts a mount remembers', async () => {
    let n = 0;
    const verifier: TokenVerifier = async () => {
      throw new InvalidTokenError(`reason number ${n++}`);
    };
    const app = appWith(verifier);
    for (let i = 0; i < 80; i++) {
      const res = await request(app).get('/mcp').set('Authorization', 'Bearer some.jwt.token');
      expect(parseChallenge(res.headers['www-authenticate']).params['error_description']).toBe(`reason number ${i}`);
    }
    const again = await request(app).get('/mcp').set('Authorization', 'Bearer some.jwt.token');
    expect(parseChallenge(again.headers['www-authenticate']).params['error_description']).toBe('reason number 80');
  });
});

/** The RFC 7235 §2.1 grammar, OWS being SP and HTAB (RFC 7230 §3.2.3): what the fast path must agree with. */
function referenceExtract(header: string): string | 'missing' | 'invalid' {
  const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s.exec(header.replace(/^[ \t]+|[ \t]+$/g, ''));
  if (!match) return 'invalid';
  if (match[1]!.toLowerCase() !== 'bearer') return 'missing';
  const token = match[2];
  if (!token || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) return 'invalid';
  return token;
}

function extract(header: string): string | 'missing' | 'invalid' {
  const req = { url: '/mcp', headers: {}, rawHeaders: ['Authorization', header] } as unknown as http.IncomingMessage;
  try {
    return extractBearerToken(req, 8192);
  } catch (error) {
    return (error as { status: number }).status === 401 ? 'missing' : 'invalid';
  }
}

describe('extractBearerToken fast path', () => {
  it('RFC 6750 §2.1: agrees with the RFC 7235 grammar on every header, common spellings and odd ones alike', () => {
    const scheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'DPoP', 'Bearerx', 'Bear');
    const space = fc.constantFrom(' ', '  ', '\t', '', ' \t', '\u00a0');
    const token = fc.stringMatching(/^[A-Za-z0-9\-._~+/= \t\u00a0"]{0,40}$/);
    const header = fc.oneof(
      fc.tuple(space, scheme, space, token, space).map(([a, s, b, t, c]) => `${a}${s}${b}${t}${c}`),
      fc.string({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(header, (h) => {
        expect(extract(h)).toBe(referenceExtract(h));
      }),
      { numRuns: 10_000 },
    );
  });
});
