import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import express4 from 'express4';
import request from 'supertest';
import type { AuthInfo } from '@portcullis/token-verification';
import { bearerAuth, HEADER_MISMATCH, requireScopes, type BearerAuthOptions } from '../src/index.js';
import { parseChallenge, startFixture, type Fixture } from './support.js';

let fx: Fixture;
let tools: string; // mcp:tools
let toolsAndRead: string; // mcp:tools files:read
let admin: string; // mcp:admin
beforeAll(async () => {
  fx = await startFixture();
  [tools, toolsAndRead, admin] = await Promise.all([fx.token('mcp:tools'), fx.token('mcp:tools files:read'), fx.token('mcp:admin')]);
});
afterAll(() => fx.close());

const operationScopes = {
  'tools/list': ['mcp:tools'],
  'tools/call': { delete_repo: ['mcp:admin'], read_file: ['files:read'], '*': ['mcp:tools'] },
  'resources/read': { 'file:///secret.txt': ['files:write'] },
  'prompts/get': { review: ['files:read'] },
} as const;

/** An app whose handler records what reached it, so "answered before the tool runs" is visible. */
function mcpApp(options: Partial<BearerAuthOptions> = {}, { json = false } = {}) {
  const reached: unknown[] = [];
  const a = express();
  if (json) a.use(express.json());
  a.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource, operationScopes, ...options }));
  a.post('/mcp', (req, res) => {
    reached.push(req.body);
    res.json({ ok: true, body: req.body, scopes: (req as unknown as { auth: AuthInfo }).auth.scopes });
  });
  return { app: a, reached };
}

const call = (name: string, id: number | string = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

describe.each([
  ['without a body parser', false],
  ['after express.json()', true],
])('per-MCP-operation scopes %s', (_label, json) => {
  it('a tools/call of delete_repo needs mcp:admin: 403 listing it, before the tool runs', async () => {
    const { app, reached } = mcpApp({}, { json });
    const res = await request(app).post('/mcp').set('Authorization', `Bearer ${tools}`).send(call('delete_repo'));
    expect(res.status).toBe(403);
    const challenge = parseChallenge(res.headers['www-authenticate']);
    expect(challenge.params['error']).toBe('insufficient_scope');
    expect(challenge.params['scope']).toBe('mcp:admin');
    expect(reached).toEqual([]);
  });

  it('the right scope lets the call through, and the body stays readable for the handler', async () => {
    const { app, reached } = mcpApp({}, { json });
    const res = await request(app).post('/mcp').set('Authorization', `Bearer ${admin}`).send(call('delete_repo'));
    expect(res.status).toBe(200);
    expect(reached).toEqual([call('delete_repo')]);
  });

  it("an unnamed tool falls back to '*', unknown methods need nothing beyond the mount", async () => {
    const { app } = mcpApp({}, { json });
    expect((await request(app).post('/mcp').set('Authorization', `Bearer ${tools}`).send(call('anything'))).status).toBe(200);
    expect((await request(app).post('/mcp').set('Authorization', `Bearer ${admin}`).send(call('anything'))).status).toBe(403);
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    expect((await request(app).post('/mcp').set('Authorization', `Bearer ${admin}`).send(ping)).status).toBe(200);
  });

  it('resources/read by uri and prompts/get by name', async () => {
    const { app } = mcpApp({}, { json });
    const read = { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'file:///secret.txt' } };
    const res = await request(app).post('/mcp').set('Authorization', `Bearer ${toolsAndRead}`).send(read);
    expect(res.status).toBe(403);
    expect(parseChallenge(res.headers['www-authenticate']).params['scope']).toBe('files:write');
    const prompt = { jsonrpc: '2.0', id: 1, method: 'prompts/get', params: { name: 'review' } };
    expect((await request(app).post('/mcp').set('Authorization', `Bearer ${toolsAndRead}`).send(prompt)).status).toBe(200);
  });

  it('resources/read: every spelling of a guarded URI needs its scopes, as the SDK reads new URL(uri).href', async () => {
    const { app, reached } = mcpApp({}, { json });
    for (const uri of ['FILE:///secret.txt', 'file://localhost/secret.txt', 'file:///x/../secret.txt', 'file:///%2e/secret.txt']) {
      const read = { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri } };
      const res = await request(app).post('/mcp').set('Authorization', `Bearer ${toolsAndRead}`).send(read);
      expect([uri, res.status]).toEqual([uri, 403]);
      expect(parseChallenge(res.headers['www-authenticate']).params['scope']).toBe('files:write');
    }
    // A URI nobody can parse needs every scope listed for resources/read (the SDK refuses it anyway).
    const unparsable = { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'not a uri' } };
    expect((await request(app).post('/mcp').set('Authorization', `Bearer ${toolsAndRead}`).send(unparsable)).status).toBe(403);
    expect(reached).toEqual([]);
  });

  it('a POST body that is not JSON is refused (415) before any handler: it could carry a tools/call to a looser handler', async () => {
    const { app, reached } = mcpApp({}, { json });
    const body = JSON.stringify(call('delete_repo'));
    for (const type of ['text/plain', 'text/plain; x=application/json', 'application/x-www-form-urlencoded']) {
      const res = await request(app).post('/mcp').set('Authorization', `Bearer ${tools}`).set('Content-Type', type).send(body);
      expect([type, res.status]).toEqual([type, 415]);
    }
    expect(reached).toEqual([]);
  });

  it('a body a parser already parsed, whatever its content type, decides the scopes (express.json({ type: "*/*" }))', async () => {
    const a = express();
    a.use(express.json({ type: '*/*' }));
    a.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource, operationScopes }));
    a.post('/mcp', (_req, res) => res.json({ reached: true }));
    const res = await request(a).post('/mcp').set('Authorization', `Bearer ${tools}`).set('Content-Type', 'text/plain').send(JSON.stringify(call('delete_repo')));
    expect(res.status).toBe(403);
    expect(parseChallenge(res.headers['www-authenticate']).params['scope']).toBe('mcp:admin');
  });

  it('S-18 S-19: a batch needs the union, all of it in one challenge with the mount scopes', async () => {
    const { app, reached } = mcpApp({ requiredScopes: ['mcp:tools'] }, { json });
    const batch = [call('read_file', 1), call('delete_repo', 2), { jsonrpc: '2.0', method: 'notifications/initialized' }];
    const res = await request(app).post('/mcp').set('Authorization', `Bearer ${toolsAndRead}`).send(batch);
    expect(res.status).toBe(403);
    expect(parseChallenge(res.headers['www-authenticate']).params['scope']).toBe('mcp:tools files:read mcp:admin');
    expect(res.headers['www-authenticate']!.match(/Bearer/g)).toHaveLength(1);
    expect(reached).toEqual([]);
  });

  it('S-29: Mcp-Method / Mcp-Name headers that match the body are accepted', async () => {
    const { app } = mcpApp({}, { json });
    const res = await request(app)
      .post('/mcp')
      .set('Authorization', `Bearer ${admin}`)
      .set('Mcp-Method', 'tools/call')
      .set('Mcp-Name', 'delete_repo')
      .send(call('delete_repo'));
    expect(res.status).toBe(200);
  });

  it.each([
    ['Mcp-Name differs', { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'harmless' }, call('delete_repo', 7), 7],
    ['Mcp-Method differs', { 'Mcp-Method': 'tools/list' }, call('delete_repo', 'a'), 'a'],
    ['Mcp-Name differs with no Mcp-Method', { 'Mcp-Name': 'harmless' }, call('delete_repo', 8), 8],
    ['a batch message differs', { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'read_file' }, [call('read_file', 1), call('delete_repo', 2)], null],
  ])('S-29: %s → 400 with JSON-RPC error -32020, before the tool runs', async (_name, headers, body, id) => {
    const { app, reached } = mcpApp({}, { json });
    const res = await request(app).post('/mcp').set('Authorization', `Bearer ${admin}`).set(headers).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ jsonrpc: '2.0', id, error: { code: HEADER_MISMATCH, message: expect.stringMatching(/^Header mismatch/) } });
    expect(HEADER_MISMATCH).toBe(-32020);
    expect(reached).toEqual([]);
  });
});

describe('per-MCP-operation scopes: edges', () => {
  it('S-29: without a JSON body (GET), the Mcp-Method / Mcp-Name headers name the operation', async () => {
    const a = express();
    a.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource, operationScopes }));
    a.get('/mcp', (_req, res) => {
      res.send('ok');
    });
    const res = await request(a).get('/mcp').set('Authorization', `Bearer ${tools}`).set('Mcp-Method', 'tools/call').set('Mcp-Name', 'delete_repo');
    expect(res.status).toBe(403);
    expect((await request(a).get('/mcp').set('Authorization', `Bearer ${tools}`)).status).toBe(200);
  });

  it('S-29 a =?base64?…?= Mcp-Name (2026-07-28: a value that is not plain ASCII) is decoded before it is compared or used', async () => {
    const sentinel = (text: string) => `=?base64?${Buffer.from(text, 'utf8').toString('base64')}?=`;
    const operationScopes = { 'tools/call': { 'héllo': ['mcp:admin'], delete_repo: ['mcp:admin'] } };
    const { app, reached } = mcpApp({ operationScopes });
    const send = (token: string, name: string, header: string) =>
      request(app).post('/mcp').set('Authorization', `Bearer ${token}`).set('Mcp-Method', 'tools/call').set('Mcp-Name', header).send(call(name, 3));
    // Decoded, it agrees with the body: the body's scopes apply (403 without, 200 with).
    expect((await send(tools, 'héllo', sentinel('héllo'))).status).toBe(403);
    expect((await send(admin, 'héllo', sentinel('héllo'))).status).toBe(200);
    // Decoded, it names another tool: a mismatch.
    const other = await send(admin, 'delete_repo', sentinel('héllo'));
    expect(other.status).toBe(400);
    expect(other.body.error.code).toBe(HEADER_MISMATCH);
    // Malformed, each beside the body name a lax decoder would read out of it: not base64; unused
    // bits set ('aGl=' is 'hi' spelled another way); padding left off; not UTF-8.
    for (const [bad, body] of [
      ['=?base64?%%%?=', 'héllo'],
      ['=?base64?aGl=?=', 'hi'],
      ['=?base64?aGk?=', 'hi'],
      [`=?base64?${Buffer.from([0xff, 0xfe]).toString('base64')}?=`, '\ufffd\ufffd'],
    ]) {
      const res = await send(admin, body!, bad!);
      expect([res.status, res.body.error?.code, res.body.id]).toEqual([400, HEADER_MISMATCH, 3]);
      expect(res.body.error.message).toMatch(/not valid =\?base64\?/);
    }
    expect(reached).toHaveLength(1);
    // Without a body (GET), a malformed one is refused too rather than naming no operation.
    const a = express();
    a.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource, operationScopes }));
    a.get('/mcp', (_req, res) => res.send('ok'));
    const get = await request(a).get('/mcp').set('Authorization', `Bearer ${admin}`).set('Mcp-Method', 'tools/call').set('Mcp-Name', '=?base64?%%%?=');
    expect([get.status, get.body.error?.code]).toEqual([400, HEADER_MISMATCH]);
    expect((await request(a).get('/mcp').set('Authorization', `Bearer ${tools}`).set('Mcp-Method', 'tools/call').set('Mcp-Name', sentinel('héllo'))).status).toBe(403);
  });

  it('an unparsable JSON body → 400 JSON-RPC parse error', async () => {
    const { app, reached } = mcpApp();
    const res = await request(app).post('/mcp').set('Authorization', `Bearer ${admin}`).set('Content-Type', 'application/json').send('{"jsonrpc":');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(-32700);
    expect(reached).toEqual([]);
  });

  it('a body over maxBodyBytes → 413', async () => {
    const { app } = mcpApp({ maxBodyBytes: 100 });
    const res = await request(app).post('/mcp').set('Authorization', `Bearer ${admin}`).send(call('x'.repeat(200)));
    expect(res.status).toBe(413);
  });

  it('no credentials: 401 before the body is read', async () => {
    const { app } = mcpApp();
    const res = await request(app).post('/mcp').send(call('delete_repo'));
    expect(res.status).toBe(401);
    expect(parseChallenge(res.headers['www-authenticate']).params['error']).toBeUndefined();
  });

  it.each([
    ['express.urlencoded() (body-parser 1 presets req.body = {} without reading)', (a: express4.Express) => a.use(express4.urlencoded({ extended: false }))],
    ['express.json() for another JSON type only', (a: express4.Express) => a.use(express4.json({ type: 'application/vnd.other+json' }))],
    ['a middleware that sets req.body without reading the stream', (a: express4.Express) => a.use((req, _res, next) => ((req.body = { method: 'tools/list' }), next()))],
  ])('S-10 S-17 an unread body decides the scopes, not a req.body set before it: %s', async (_title, before) => {
    const a = express4();
    before(a);
    a.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource, operationScopes }));
    a.use(express4.json());
    const reached: unknown[] = [];
    a.post('/mcp', (req, res) => {
      reached.push(req.body);
      res.json({ ok: true });
    });
    const res = await request(a).post('/mcp').set('Authorization', `Bearer ${tools}`).send(call('delete_repo'));
    expect(res.status).toBe(403);
    expect(parseChallenge(res.headers['www-authenticate']).params['scope']).toBe('mcp:admin');
    expect(reached).toEqual([]);
    // The body read for the check is the one the handler gets.
    const allowed = await request(a).post('/mcp').set('Authorization', `Bearer ${admin}`).send(call('delete_repo'));
    expect(allowed.status).toBe(200);
    expect(reached).toEqual([call('delete_repo')]);
  });

  it('a body drained by someone else without keeping it fails closed via next(err)', async () => {
    const a = express();
    a.use((req, _res, next) => {
      req.resume();
      req.on('end', () => next());
    });
    a.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource, operationScopes }));
    a.post('/mcp', (_req, res) => {
      res.send('reached');
    });
    a.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send(err.message);
    });
    const res = await request(a).post('/mcp').set('Authorization', `Bearer ${admin}`).send(call('delete_repo'));
    expect(res.status).toBe(500);
    expect(res.text).toMatch(/consumed before bearerAuth/);
  });
});

describe('scopes for the whole mount and per route', () => {
  function routeApp(options: Partial<BearerAuthOptions> = {}) {
    const a = express();
    a.use('/api', bearerAuth({ verifier: fx.verifier, resource: fx.resource, requiredScopes: ['mcp:tools'], ...options }));
    a.get('/api/open', (_req, res) => {
      res.send('open');
    });
    a.get('/api/files', requireScopes('files:read'), (_req, res) => {
      res.send('files');
    });
    a.get('/api/both', requireScopes('files:read'), requireScopes('files:write'), (_req, res) => {
      res.send('both');
    });
    a.get('/unprotected', requireScopes('files:read'), (_req, res) => {
      res.send('never');
    });
    a.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send(err.message);
    });
    return a;
  }

  it('the mount scope applies to every route', async () => {
    const res = await request(routeApp()).get('/api/open').set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(403);
    expect(parseChallenge(res.headers['www-authenticate']).params['scope']).toBe('mcp:tools');
    expect((await request(routeApp()).get('/api/open').set('Authorization', `Bearer ${tools}`)).status).toBe(200);
  });

  it('S-18 S-20: requireScopes adds route scopes; the 403 lists mount + route scopes (always every needed scope)', async () => {
    const res = await request(routeApp()).get('/api/files').set('Authorization', `Bearer ${tools}`);
    expect(res.status).toBe(403);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(parseChallenge(res.headers['www-authenticate']).params).toMatchObject({ error: 'insufficient_scope', scope: 'mcp:tools files:read' });
    expect((await request(routeApp()).get('/api/files').set('Authorization', `Bearer ${toolsAndRead}`)).status).toBe(200);
  });

  it('S-19: stacked requireScopes accumulate into one challenge with every scope', async () => {
    const res = await request(routeApp()).get('/api/both').set('Authorization', `Bearer ${toolsAndRead}`);
    expect(res.status).toBe(403);
    expect(parseChallenge(res.headers['www-authenticate']).params['scope']).toBe('mcp:tools files:read files:write');
  });

  it('requireScopes without bearerAuth before it is a wiring error → next(err)', async () => {
    const res = await request(routeApp()).get('/unprotected').set('Authorization', `Bearer ${toolsAndRead}`);
    expect(res.status).toBe(500);
    expect(res.text).toMatch(/must run after bearerAuth/);
  });

  it('requireScopes validates its scopes at construction', () => {
    expect(() => requireScopes('a b')).toThrow(/requireScopes\(\)/);
  });

  it('S-21: a broader scope covers narrower ones (implications, transitive, and prefix rule)', async () => {
    const implies = routeApp({ requiredScopes: ['mcp:tools'], scopeHierarchy: { implies: { 'mcp:admin': ['mcp:tools', 'files:write'], 'files:write': ['files:read'] } } });
    // mcp:admin ⇒ mcp:tools (mount) and ⇒ files:write ⇒ files:read (route, transitive)
    expect((await request(implies).get('/api/files').set('Authorization', `Bearer ${admin}`)).status).toBe(200);
    expect((await request(implies).get('/api/both').set('Authorization', `Bearer ${admin}`)).status).toBe(200);
    // not the other way round
    expect((await request(implies).get('/api/both').set('Authorization', `Bearer ${toolsAndRead}`)).status).toBe(403);

    const prefix = routeApp({ requiredScopes: ['mcp:admin:users'], scopeHierarchy: { separator: ':' } });
    expect((await request(prefix).get('/api/open').set('Authorization', `Bearer ${admin}`)).status).toBe(200);
    expect((await request(prefix).get('/api/open').set('Authorization', `Bearer ${tools}`)).status).toBe(403);
  });

  it('S-21: the hierarchy applies to per-operation scopes too', async () => {
    const { app } = mcpApp({ scopeHierarchy: { implies: { 'mcp:admin': ['mcp:tools'] } } });
    expect((await request(app).post('/mcp').set('Authorization', `Bearer ${admin}`).send(call('anything'))).status).toBe(200);
  });
});

describe('what a 403 says', () => {
  it.each([
    ['the mount', { requiredScopes: ['mcp:tools', 'mcp:admin'] }],
    ['the operation', { requiredScopes: ['mcp:tools'], operationScopes: { 'tools/call': { delete_repo: ['mcp:admin'] } } }],
  ])('S-18 S-19 a scope missing for %s: the challenge lists every needed scope, the description only the missing one', async (_name, options) => {
    const a = express();
    a.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource, ...options }));
    a.post('/mcp', (_req, res) => res.json({ ok: true }));
    const res = await request(a).post('/mcp').set('Authorization', `Bearer ${tools}`).send(call('delete_repo'));
    expect(res.status).toBe(403);
    const challenge = parseChallenge(res.headers['www-authenticate']);
    expect(challenge.params['scope']).toBe('mcp:tools mcp:admin');
    expect(challenge.params['error_description']).toBe('The access token lacks required scopes: mcp:admin');
    expect(res.body.error_description).toBe('The access token lacks required scopes: mcp:admin');
  });

  it('S-18 requireScopes(): the description names only what the token lacks', async () => {
    const a = express();
    a.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource, requiredScopes: ['mcp:tools'] }));
    a.post('/mcp', requireScopes('files:read', 'mcp:admin'), (_req, res) => res.json({ ok: true }));
    const res = await request(a).post('/mcp').set('Authorization', `Bearer ${toolsAndRead}`).send(call('x'));
    expect(res.status).toBe(403);
    expect(parseChallenge(res.headers['www-authenticate']).params['scope']).toBe('mcp:tools files:read mcp:admin');
    expect(res.body.error_description).toBe('The access token lacks required scopes: mcp:admin');
  });
});
