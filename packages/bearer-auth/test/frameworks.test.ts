import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import express5 from 'express';
import express4 from 'express4';
import connect from 'connect';
import helmet from 'helmet';
import cors from 'cors';
import request from 'supertest';
import type { AuthInfo } from '@portcullis/token-verification';
import { protectedResourceMetadata } from '@portcullis/protected-resource-metadata';
import { bearerAuth, requireScopes } from '../src/index.js';
import { METADATA_URL, parseChallenge, startFixture, type Fixture } from './support.js';

let fx: Fixture;
let token: string;
beforeAll(async () => {
  fx = await startFixture();
  token = await fx.token('mcp:tools');
});
afterAll(() => fx.close());

const operationScopes = { 'tools/call': { delete_repo: ['mcp:admin'] } };

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function who(req: IncomingMessage, res: ServerResponse) {
  const auth = (req as IncomingMessage & { auth?: AuthInfo }).auth;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ clientId: auth?.clientId, scopes: auth?.scopes }));
}

async function expectWorks(handler: Handler | express5.Express) {
  const ok = await request(handler).post('/mcp').set('Authorization', `Bearer ${token}`);
  expect(ok.status).toBe(200);
  expect(ok.body).toEqual({ clientId: 'machine-client', scopes: ['mcp:tools'] });
  const none = await request(handler).post('/mcp');
  expect(none.status).toBe(401);
  expect(parseChallenge(none.headers['www-authenticate']).params).toEqual({ resource_metadata: METADATA_URL });
  const forbidden = await request(handler).post('/mcp/admin').set('Authorization', `Bearer ${token}`);
  expect(forbidden.status).toBe(403);
  expect(parseChallenge(forbidden.headers['www-authenticate']).params['scope']).toBe('mcp:admin');
  // per-tool scopes read from the JSON body with no body parser in any framework
  const tool = await request(handler)
    .post('/mcp')
    .set('Authorization', `Bearer ${token}`)
    .send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'delete_repo' } });
  expect(tool.status).toBe(403);
  expect(parseChallenge(tool.headers['www-authenticate']).params['scope']).toBe('mcp:admin');
  const crashed = await request(handler).post('/mcp/crash').set('Authorization', `Bearer ${token}`);
  expect(crashed.status).toBe(500);
}

describe('the same middleware under every framework', () => {
  it.each([
    ['Express 5', express5],
    ['Express 4', express4],
  ])('%s', async (_name, express) => {
    const app = express();
    app.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource, operationScopes }));
    app.post('/mcp', who);
    app.post('/mcp/admin', requireScopes('mcp:admin'), who);
    app.post('/mcp/crash', () => {
      throw new Error('boom');
    });
    await expectWorks(app);
  });

  it('Connect', async () => {
    const app = connect();
    app.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource, operationScopes }));
    app.use('/mcp/admin', requireScopes('mcp:admin'));
    app.use('/mcp/admin', who);
    app.use('/mcp/crash', () => {
      throw new Error('boom');
    });
    app.use('/mcp', who);
    await expectWorks(app as unknown as Handler);
  });

  it('a bare http.createServer handler', async () => {
    const auth = bearerAuth({ verifier: fx.verifier, resource: fx.resource, operationScopes });
    const admin = requireScopes('mcp:admin');
    const server = createServer((req, res) => {
      const fail = (err: unknown) => res.writeHead(500).end(String(err));
      auth(req, res, (err) => {
        if (err) return fail(err);
        if (req.url === '/mcp/crash') return fail(new Error('boom'));
        if (req.url === '/mcp/admin') return admin(req, res, (e) => (e ? fail(e) : who(req, res)));
        who(req, res);
      });
    });
    await expectWorks(server as unknown as Handler);
  });

  it('Express 4 and Connect: our errors never reach the default error handler, others do (next(err))', async () => {
    const app = express4();
    app.use('/mcp', bearerAuth({ verifier: async () => Promise.reject(new Error('not ours')), resource: fx.resource }));
    const res = await request(app).post('/mcp').set('Authorization', 'Bearer abc');
    expect(res.status).toBe(500);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });
});

describe('browsers: mounted together with helmet and cors', () => {
  function browserApp() {
    const app = express5();
    app.use(helmet());
    app.use(cors({ exposedHeaders: ['Mcp-Session-Id'] }));
    app.use(protectedResourceMetadata(fx.resource));
    app.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource, requiredScopes: ['mcp:tools'] }));
    app.post('/mcp', who);
    return app;
  }

  it('a 401 keeps helmet and cors headers and exposes WWW-Authenticate alongside cors exposed headers', async () => {
    const res = await request(browserApp()).post('/mcp').set('Origin', 'https://app.example');
    expect(res.status).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-expose-headers']).toBe('Mcp-Session-Id, WWW-Authenticate');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.headers['cache-control']).toBe('no-store');
    expect(parseChallenge(res.headers['www-authenticate']).params).toEqual({ resource_metadata: METADATA_URL, scope: 'mcp:tools' });
  });

  it('the preflight is answered by cors; the metadata is readable cross-origin; a real token works', async () => {
    const app = browserApp();
    const pre = await request(app).options('/mcp').set('Origin', 'https://app.example').set('Access-Control-Request-Method', 'POST').set('Access-Control-Request-Headers', 'authorization');
    expect(pre.status).toBe(204);
    const meta = await request(app).get('/.well-known/oauth-protected-resource/mcp').set('Origin', 'https://app.example');
    expect(meta.status).toBe(200);
    expect(meta.headers['access-control-allow-origin']).toBe('*');
    const ok = await request(app).post('/mcp').set('Origin', 'https://app.example').set('Authorization', `Bearer ${token}`);
    expect(ok.status).toBe(200);
  });

  it('without cors, the challenge still exposes WWW-Authenticate', async () => {
    const app = express5();
    app.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource }));
    const res = await request(app).post('/mcp');
    expect(res.headers['access-control-expose-headers']).toBe('WWW-Authenticate');
  });
});
