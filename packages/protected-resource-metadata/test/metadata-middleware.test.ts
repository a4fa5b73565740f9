import { describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { ConfigurationError } from '@portcullis/token-verification';
import { warningsOf } from '@portcullis/test-fixtures';
import { defineProtectedResource, protectedResourceMetadata } from '../src/index.js';

const AS = 'https://auth.example.com';
const mcp = defineProtectedResource({ resource: 'https://mcp.example.com/mcp', authorizationServers: [AS], scopesSupported: ['mcp:tools'] });

function appFor(...middleware: express.RequestHandler[]) {
  const app = express();
  app.use(...middleware);
  app.use((_req, res) => {
    res.status(404).json({ fallthrough: true });
  });
  return app;
}

describe('protectedResourceMetadata', () => {
  it('S-02 S-04 S-05: serves the document at the path-inserted well-known URL with JSON, Cache-Control and CORS', async () => {
    const res = await request(appFor(protectedResourceMetadata(mcp))).get('/.well-known/oauth-protected-resource/mcp');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.body).toEqual({
      resource: 'https://mcp.example.com/mcp',
      authorization_servers: [AS],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:tools'],
    });
  });

  it('uses exact routes, never prefix matches: neighbours and the root fall through', async () => {
    const app = appFor(protectedResourceMetadata(mcp));
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp/',
      '/.well-known/oauth-protected-resource/mcp/extra',
      '/.well-known/oauth-protected-resource/mcpx',
      '/.well-known/oauth-protected-resource/MCP',
    ]) {
      const res = await request(app).get(path);
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 404, body: { fallthrough: true } });
    }
    expect((await request(app).get('/.well-known/oauth-protected-resource/mcp?x=1')).status).toBe(200);
  });

  it('S-04: serves a resource without a path at the root, and at both places with serveAtRoot', async () => {
    const root = defineProtectedResource({ resource: 'https://api.example.com', authorizationServers: [AS] });
    const res = await request(appFor(protectedResourceMetadata(root))).get('/.well-known/oauth-protected-resource');
    expect(res.status).toBe(200);
    expect(res.body.resource).toBe('https://api.example.com');

    const both = defineProtectedResource({ resource: 'https://mcp.example.com/mcp', authorizationServers: [AS], serveAtRoot: true });
    const app = appFor(protectedResourceMetadata(both));
    expect((await request(app).get('/.well-known/oauth-protected-resource')).body.resource).toBe('https://mcp.example.com/mcp');
    expect((await request(app).get('/.well-known/oauth-protected-resource/mcp')).body.resource).toBe('https://mcp.example.com/mcp');
  });

  it('works when mounted under a sub-router path (reads originalUrl)', async () => {
    const app = express();
    app.use('/.well-known', protectedResourceMetadata(mcp));
    expect((await request(app).get('/.well-known/oauth-protected-resource/mcp')).status).toBe(200);
  });

  it('answers HEAD with headers and no body', async () => {
    const res = await request(appFor(protectedResourceMetadata(mcp))).head('/.well-known/oauth-protected-resource/mcp');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(Number(res.headers['content-length'])).toBeGreaterThan(0);
    expect(res.text).toBeUndefined();
  });

  it('answers an OPTIONS preflight with CORS *', async () => {
    const res = await request(appFor(protectedResourceMetadata(mcp)))
      .options('/.well-known/oauth-protected-resource/mcp')
      .set('Origin', 'https://app.example')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'mcp-protocol-version');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
    expect(res.headers['access-control-allow-headers']).toBe('*');
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'] as const)('answers %s with 405 and Allow', async (method) => {
    const agent = request(appFor(protectedResourceMetadata(mcp)));
    const res = await agent[method.toLowerCase() as 'post' | 'put' | 'delete' | 'patch']('/.well-known/oauth-protected-resource/mcp');
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('GET, HEAD, OPTIONS');
  });

  it('serves several resources on one app, each at its own path', async () => {
    const a = defineProtectedResource({ resource: 'https://mcp.example.com/a/mcp', authorizationServers: [AS], scopesSupported: ['a'] });
    const b = defineProtectedResource({ resource: 'https://mcp.example.com/b/mcp', authorizationServers: ['https://b-auth.example.com'] });
    const app = appFor(protectedResourceMetadata([a, b]));
    const resA = await request(app).get('/.well-known/oauth-protected-resource/a/mcp');
    const resB = await request(app).get('/.well-known/oauth-protected-resource/b/mcp');
    expect(resA.body).toMatchObject({ resource: 'https://mcp.example.com/a/mcp', scopes_supported: ['a'] });
    expect(resB.body).toMatchObject({ resource: 'https://mcp.example.com/b/mcp', authorization_servers: ['https://b-auth.example.com'] });
  });

  it('refuses two resources on the same well-known path', () => {
    const a = defineProtectedResource({ resource: 'https://a.example.com/mcp', authorizationServers: [AS] });
    const b = defineProtectedResource({ resource: 'https://b.example.com/mcp', authorizationServers: [AS] });
    expect(() => protectedResourceMetadata([a, b])).toThrow(ConfigurationError);
    expect(() => protectedResourceMetadata([a, b])).toThrow(/\/\.well-known\/oauth-protected-resource\/mcp/);
  });

  it('S-04 a resource ending in / and its slash-less neighbour on one app: each is served at its own path', async () => {
    const slashed = defineProtectedResource({ resource: 'https://mcp.example.com/api/', authorizationServers: ['https://auth.example.com'] });
    const plain = defineProtectedResource({ resource: 'https://mcp.example.com/api', authorizationServers: ['https://auth.example.com'] });
    for (const order of [[slashed, plain], [plain, slashed]]) {
      const app = appFor(protectedResourceMetadata(order));
      expect((await request(app).get('/.well-known/oauth-protected-resource/api/')).body.resource).toBe('https://mcp.example.com/api/');
      expect((await request(app).get('/.well-known/oauth-protected-resource/api')).body.resource).toBe('https://mcp.example.com/api');
    }
    const alone = appFor(protectedResourceMetadata(slashed));
    expect((await request(alone).get('/.well-known/oauth-protected-resource/api')).body.resource).toBe('https://mcp.example.com/api/');
  });

  it('honours cacheMaxAge and rejects a bad one', async () => {
    const res = await request(appFor(protectedResourceMetadata(mcp, { cacheMaxAge: 60 }))).get('/.well-known/oauth-protected-resource/mcp');
    expect(res.headers['cache-control']).toBe('public, max-age=60');
    expect(() => protectedResourceMetadata(mcp, { cacheMaxAge: -1 })).toThrow(/cacheMaxAge/);
  });

  it('RFC 9728 §2.2: adds signed_metadata, a JWS over the same fields with an iss claim', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const app = appFor(protectedResourceMetadata(mcp, { signedMetadata: { key: privateKey, alg: 'ES256', kid: 'k1', issuer: 'https://mcp.example.com' } }));
    const first = await request(app).get('/.well-known/oauth-protected-resource/mcp');
    const second = await request(app).get('/.well-known/oauth-protected-resource/mcp');
    expect(first.status).toBe(200);
    expect(second.body.signed_metadata).toBe(first.body.signed_metadata);
    const { payload, protectedHeader } = await jwtVerify(first.body.signed_metadata, publicKey, { issuer: 'https://mcp.example.com' });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: 'k1' });
    const { iss: _iss, iat: _iat, ...claims } = payload;
    const { signed_metadata: _s, ...plain } = first.body;
    expect(claims).toEqual(plain);
  });

  it('S-02 RFC 9728 §2.2: a key that cannot sign with alg is refused when the middleware is made, not on the first request', async () => {
    const es256 = await generateKeyPair('ES256', { extractable: true });
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const p384 = await generateKeyPair('ES384');
    for (const [key, alg] of [
      [es256.publicKey, 'ES256'],
      [await exportJWK(es256.publicKey), 'ES256'],
      [rsa.privateKey, 'ES256'],
      [p384.privateKey, 'ES256'],
      [es256.privateKey, 'RS256'],
      [rsa.privateKey, 'PS256'],
      [rsa.privateKey, 'RS384'],
    ] as const) {
      expect(() => protectedResourceMetadata(mcp, { signedMetadata: { key, alg, issuer: 'https://mcp.example.com' } })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_KEY' }),
      );
    }
    for (const [key, alg] of [[es256.privateKey, 'ES256'], [await exportJWK(es256.privateKey), 'ES256'], [rsa.privateKey, 'RS256'], [await exportJWK(rsa.privateKey), 'PS256']] as const) {
      const res = await request(appFor(protectedResourceMetadata(mcp, { signedMetadata: { key, alg, issuer: 'https://mcp.example.com' } }))).get(
        '/.well-known/oauth-protected-resource/mcp',
      );
      expect([alg, res.status]).toEqual([alg, 200]);
    }
  });

  it('RFC 9728 §2.2: a metadata field named like a JWT claim (exp, iss…) is refused when signing', () => {
    const withExp = defineProtectedResource({ resource: 'https://mcp.example.com/mcp', authorizationServers: ['https://auth.example.com'], extra: { exp: 1 } });
    return generateKeyPair('ES256').then(({ privateKey }) => {
      expect(() => protectedResourceMetadata(withExp, { signedMetadata: { key: privateKey, alg: 'ES256', issuer: 'https://mcp.example.com' } })).toThrow(/exp/);
      expect(() => protectedResourceMetadata(withExp)).not.toThrow();
    });
  });

  it('refuses symmetric or none algorithms for signed_metadata', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    for (const alg of ['none', 'HS256', '']) {
      expect(() => protectedResourceMetadata(mcp, { signedMetadata: { key: privateKey, alg, issuer: 'https://mcp.example.com' } })).toThrow(
        /signedMetadata\.alg/,
      );
    }
  });
});

describe('protectedResourceMetadata on a bare node:http server', () => {
  it('serves the document with no framework, and leaves other paths to the next handler', async () => {
    const { createServer } = await import('node:http');
    const serve = protectedResourceMetadata(mcp);
    const server = createServer((req, res) => serve(req, res, () => res.writeHead(404).end('next')));
    const doc = await request(server).get('/.well-known/oauth-protected-resource/mcp');
    expect(doc.status).toBe(200);
    expect(doc.body.resource).toBe('https://mcp.example.com/mcp');
    expect((await request(server).get('/elsewhere')).text).toBe('next');
  });
});

describe('protectedResourceMetadata: misspelt options', () => {
  it.each([
    ['cacheMaxage', { cacheMaxage: 60 }, 'protectedResourceMetadata(): unknown option "cacheMaxage" (did you mean "cacheMaxAge"?)'],
    ['signedMetadata.algorithm', { signedMetadata: { algorithm: 'ES256' } }, 'protectedResourceMetadata() signedMetadata: unknown option "algorithm"'],
    ['mirrorAuthorizationServerMetadata.max_age', { mirrorAuthorizationServerMetadata: { max_age: 60 } }, 'protectedResourceMetadata() mirrorAuthorizationServerMetadata: unknown option "max_age" (did you mean "maxAge"?)'],
  ])('S-04 %s is a ConfigurationError at construction, naming it', (_name, options, message) => {
    expect(() => protectedResourceMetadata(mcp, options as never)).toThrow(expect.objectContaining({ name: 'ConfigurationError', code: 'ERR_UNKNOWN_OPTION', message: expect.stringContaining(message) }));
  });
});

describe('protectedResourceMetadata: mounted where it cannot serve', () => {
  it('S-04 mounted under a path, it says so once (console.warn) and lets requests through', async () => {
    const warnings = await warningsOf(async () => {
      const app = express();
      app.use('/mcp', protectedResourceMetadata(mcp));
      app.post('/mcp', (_req, res) => res.json({ ok: true }));
      expect((await request(app).get('/.well-known/oauth-protected-resource/mcp')).status).toBe(404);
      expect((await request(app).post('/mcp')).status).toBe(200);
      expect((await request(app).post('/mcp')).status).toBe(200);
    });
    expect(warnings).toEqual([expect.stringContaining('mounted under /mcp, where it serves nothing: mount it at the application root')]);
  });

  it('S-04 mounted at the root, it warns about nothing', async () => {
    const warnings = await warningsOf(async () => {
      const app = express();
      app.use(protectedResourceMetadata(mcp));
      app.post('/mcp', (_req, res) => res.json({ ok: true }));
      expect((await request(app).post('/mcp')).status).toBe(200);
    });
    expect(warnings).toEqual([]);
  });
});
