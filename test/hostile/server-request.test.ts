/**
 * Hostile requests against `bearerAuth`: how the token is presented (header shapes, duplicates,
 * query, body, size, bytes an HTTP client would refuse to send) and what the body claims (JSON-RPC
 * batches, `Mcp-Name` mismatches, malformed JSON). Raw bytes go over a socket to 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { createTestKey, mintAccessToken, startJwksServer, type JwksServer, type TestKey } from '@portcullis/test-fixtures';
import { createJwtVerifier, type TokenVerifier } from '@portcullis/token-verification';
import { HEADER_MISMATCH } from '@portcullis/bearer-auth';
import { challengeParams, ISSUER, listen, mcpApp, METADATA_URL, rawHttp, rawRequest, RESOURCE, type Listening } from './support.js';

let key: TestKey;
let jwks: JwksServer;
let verifier: TokenVerifier;
let token: string;
const operationScopes = { 'tools/call': { delete_repo: ['repo:admin'], '*': ['mcp:tools'] } } as const;

beforeAll(async () => {
  key = await createTestKey('ES256');
  jwks = await startJwksServer([key.publicJwk]);
  verifier = createJwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: jwks.url });
  token = await mintAccessToken(key, { iss: ISSUER, aud: RESOURCE, sub: 'alice', client_id: 'c1', scope: 'mcp:tools' });
});
afterAll(() => jwks.close());

const call = (name: string, id: number | string = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

describe('S-16 S-26 how the token is presented', () => {
  let rs: ReturnType<typeof mcpApp>;
  beforeAll(() => {
    rs = mcpApp({ verifier, before: [express.urlencoded({ extended: false })] });
  });

  const cases: { name: string; authorization?: string; status: number; error: string | undefined }[] = [
    { name: 'S-16 no Authorization header → 401 with a bare challenge (no error code)', status: 401, error: undefined },
    { name: '"Bearer" with nothing after it → 400 invalid_request', authorization: 'Bearer', status: 400, error: 'invalid_request' },
    { name: '"Bearer " with only spaces → 400 invalid_request', authorization: 'Bearer    ', status: 400, error: 'invalid_request' },
    { name: 'two spaces after the scheme (RFC 7235 1*SP) → accepted', authorization: 'Bearer  TOKEN', status: 200, error: undefined },
    { name: 'a tab between scheme and token → 400 invalid_request', authorization: 'Bearer\tTOKEN', status: 400, error: 'invalid_request' },
    { name: 'lowercase scheme (case-insensitive, RFC 7235 §2.1) → accepted', authorization: 'bearer TOKEN', status: 200, error: undefined },
    { name: 'upper-case scheme → accepted', authorization: 'BEARER TOKEN', status: 200, error: undefined },
    { name: 'Basic credentials → 401 with no error code (no bearer credentials, RFC 6750 §3.1)', authorization: 'Basic dXNlcjpwYXNz', status: 401, error: undefined },
    { name: 'DPoP scheme with a bearer token → 401 with no error code', authorization: 'DPoP TOKEN', status: 401, error: undefined },
    { name: 'a token with a space inside → 400 invalid_request', authorization: 'Bearer TOK EN', status: 400, error: 'invalid_request' },
    { name: 'a comma-joined second credential → 400 invalid_request', authorization: 'Bearer TOKEN, Bearer TOKEN', status: 400, error: 'invalid_request' },
    { name: 'a token containing a double quote → 400, never reflected', authorization: 'Bearer abc"def', status: 400, error: 'invalid_request' },
    { name: 'a token containing a backslash and a comma → 400, never reflected', authorization: 'Bearer abc\\",x="y', status: 400, error: 'invalid_request' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const test = request(rs.app).post('/mcp').send({});
      if (c.authorization !== undefined) test.set('Authorization', c.authorization.replace('TOKEN', token));
      const response = await test;
      expect(response.status).toBe(c.status);
      if (c.status === 200) return;
      const params = challengeParams(response.headers['www-authenticate']);
      expect(params['error']).toBe(c.error);
      expect(params['resource_metadata']).toBe(METADATA_URL);
      expect(response.headers['cache-control']).toBe('no-store');
      // The presented credentials never come back, in the header or the body (S-22).
      const raw = c.authorization?.replace('TOKEN', token).slice(7);
      if (raw) {
        expect(response.headers['www-authenticate']).not.toContain(raw);
        expect(response.text).not.toContain(raw);
      }
    });
  }

  it('S-26 the token in the query string → 400 invalid_request, even next to a valid header', async () => {
    const reached = rs.state.reached;
    const alone = await request(rs.app).post(`/mcp?access_token=${token}`).send({});
    expect(alone.status).toBe(400);
    expect(challengeParams(alone.headers['www-authenticate'])['error']).toBe('invalid_request');
    const both = await request(rs.app).post(`/mcp?x=1&access_token=${token}`).set('Authorization', `Bearer ${token}`).send({});
    expect(both.status).toBe(400);
    const encoded = await request(rs.app).post(`/mcp?access%5Ftoken=${token}`).set('Authorization', `Bearer ${token}`).send({});
    expect(encoded.status).toBe(400);
    expect(rs.state.reached).toBe(reached);
    expect(alone.text + both.text + alone.headers['www-authenticate']).not.toContain(token);
  });

  it('S-26 the token in a form body → 400 invalid_request (alone or next to a header)', async () => {
    const form = `access_token=${token}`;
    const alone = await request(rs.app).post('/mcp').type('form').send(form);
    expect(alone.status).toBe(400);
    expect(challengeParams(alone.headers['www-authenticate'])['error']).toBe('invalid_request');
    const both = await request(rs.app).post('/mcp').type('form').set('Authorization', `Bearer ${token}`).send(form);
    expect(both.status).toBe(400);
  });
});

describe('request bytes an HTTP client will not send (raw socket to 127.0.0.1)', () => {
  let rs: ReturnType<typeof mcpApp>;
  let server: Listening;
  let bigServer: Listening;
  beforeAll(async () => {
    rs = mcpApp({ verifier });
    server = await listen(rs.app);
    // An operator who raised Node's header limit: bearerAuth's own limit answers instead.
    bigServer = await listen(rs.app, createServer({ maxHeaderSize: 256 * 1024 }) as Server);
  });
  afterAll(async () => {
    await server.close();
    await bigServer.close();
  });

  it('two Authorization headers → 400 invalid_request (Node would keep only the first)', async () => {
    const response = await rawRequest(server.port, rawHttp([`Authorization: Bearer ${token}`, 'Authorization: Bearer other']));
    expect(response.status).toBe(400);
    expect(response.head).toMatch(/www-authenticate: Bearer error="invalid_request"/i);
    const reversed = await rawRequest(server.port, rawHttp(['Authorization: Bearer other', `Authorization: Bearer ${token}`]));
    expect(reversed.status).toBe(400);
  });

  it('a 100 KB Authorization header → 431 from Node (default 16 KiB limit) before any middleware runs: no challenge, no body echo', async () => {
    const reached = rs.state.reached;
    const response = await rawRequest(server.port, rawHttp([`Authorization: Bearer ${'a'.repeat(100 * 1024)}`]));
    expect(response.status).toBe(431);
    expect(response.head).not.toMatch(/www-authenticate/i);
    expect(response.body).not.toContain('aaaa');
    expect(rs.state.reached).toBe(reached);
  });

  it('a 100 KB Authorization header with maxHeaderSize raised → 400 invalid_request from bearerAuth (its 8 KiB limit), no verification', async () => {
    const before = jwks.requests;
    const response = await rawRequest(bigServer.port, rawHttp([`Authorization: Bearer ${'a'.repeat(100 * 1024)}`]));
    expect(response.status).toBe(400);
    expect(response.head).toMatch(/error="invalid_request"/);
    expect(response.head.length).toBeLessThan(2048);
    expect(jwks.requests).toBe(before);
  });

  it('non-ASCII bytes in the token or the scheme → 400 invalid_request; the bytes are not reflected', async () => {
    for (const line of [
      Buffer.concat([Buffer.from('Authorization: Bearer t'), Buffer.from([0xc3, 0xa9]), Buffer.from('st')]),
      Buffer.concat([Buffer.from('Authorization: B'), Buffer.from([0xe9]), Buffer.from('arer abc')]),
      Buffer.concat([Buffer.from(`Authorization: Bearer ${token}`), Buffer.from([0xff])]),
    ]) {
      const response = await rawRequest(server.port, rawHttp([line]));
      expect(response.status).toBe(400);
      expect(response.head).toMatch(/error="invalid_request"/);
      expect(response.head).not.toMatch(/[\x80-\xff]/);
    }
  });

  it('CR/LF or a NUL inside the header → refused (400) and never reflected into WWW-Authenticate or another header', async () => {
    const attempts = [
      `Authorization: Bearer abc\nX-Injected: 1`,
      `Authorization: Bearer abc\rX-Injected: 1`,
      `Authorization: Bearer abc\r\n X-Injected: 1`, // obs-fold
      `Authorization: Bearer abc\0def`,
      `Authorization: Bearer abc"\r\nX-Injected: 1`,
    ];
    for (const line of attempts) {
      const response = await rawRequest(server.port, rawHttp([line]));
      expect(response.status).toBe(400);
      expect(response.head).not.toMatch(/^x-injected/im);
      const challenge = /^www-authenticate: (.*)$/im.exec(response.head)?.[1];
      if (challenge) expect(challenge).not.toContain('abc');
    }
  });
});

describe('S-29 what the body claims (operation scopes)', () => {
  let rs: ReturnType<typeof mcpApp>;
  let withParser: ReturnType<typeof mcpApp>;
  beforeAll(() => {
    rs = mcpApp({ verifier, operationScopes });
    withParser = mcpApp({ verifier, operationScopes, before: [express.json()] });
  });
  const post = (app: express.Express, body: unknown, headers: Record<string, string> = {}) =>
    request(app).post('/mcp').set('Authorization', `Bearer ${token}`).set(headers).send(body as object);

  it('S-17 S-19 a JSON-RPC batch mixing an allowed and a forbidden tool → 403 insufficient_scope naming every needed scope; the handler never runs', async () => {
    for (const { app, state } of [rs, withParser]) {
      const reached = state.reached;
      const response = await post(app, [call('echo', 1), call('delete_repo', 2)]);
      expect(response.status).toBe(403);
      const params = challengeParams(response.headers['www-authenticate']);
      expect(params['error']).toBe('insufficient_scope');
      expect(params['scope']!.split(' ')).toEqual(expect.arrayContaining(['mcp:tools', 'repo:admin']));
      expect(state.reached).toBe(reached);
      expect((await post(app, [call('echo', 1), call('search', 2)])).status).toBe(200);
    }
  });

  it('a duplicated "name" key hides nothing: the last one (what JSON.parse and the MCP SDK see) decides → 403', async () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"delete_repo"}}';
    const response = await request(rs.app).post('/mcp').set('Authorization', `Bearer ${token}`).type('json').send(body);
    expect(response.status).toBe(403);
  });

  it('prototype names (__proto__, constructor, toString) fall under "*", never crash', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect((await post(rs.app, call(name))).status).toBe(200);
    }
  });

  it('S-29 Mcp-Name contradicting the body → 400 with JSON-RPC -32020, before the tool could run', async () => {
    for (const { app, state } of [rs, withParser]) {
      const reached = state.reached;
      const response = await post(app, call('delete_repo', 7), { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'echo' });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: HEADER_MISMATCH } });
      const method = await post(app, call('delete_repo', 8), { 'Mcp-Method': 'tools/list' });
      expect(method.status).toBe(400);
      expect(method.body.error.code).toBe(HEADER_MISMATCH);
      // A batch in which one message disagrees with the headers.
      const batch = await post(app, [call('echo', 1), call('delete_repo', 2)], { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'echo' });
      expect(batch.status).toBe(400);
      expect(state.reached).toBe(reached);
    }
  });

  it('S-29 Mcp-Name without Mcp-Method cannot downgrade the operation: a disagreeing one → 400 -32020, an agreeing one leaves the body to decide → 403', async () => {
    const disagreeing = await post(rs.app, call('delete_repo', 9), { 'Mcp-Name': 'echo' });
    expect(disagreeing.status).toBe(400);
    expect(disagreeing.body).toMatchObject({ jsonrpc: '2.0', id: 9, error: { code: HEADER_MISMATCH } });
    expect((await post(rs.app, call('delete_repo'), { 'Mcp-Name': 'delete_repo' })).status).toBe(403);
  });

  it('malformed JSON bodies → 400 JSON-RPC -32700 (parse error); the handler never runs', async () => {
    const reached = rs.state.reached;
    for (const body of ['{', '', '{"method":', '[1,', 'tools/call', '\u0000', '{"a":1}}', `${'['.repeat(200_000)}`]) {
      const response = await request(rs.app).post('/mcp').set('Authorization', `Bearer ${token}`).type('json').send(body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    }
    expect(rs.state.reached).toBe(reached);
  });

  it('valid JSON that is not a request (null, [], numbers, non-string method or name) is not an operation: mount scopes only → 200', async () => {
    for (const body of ['null', '[]', '42', '"x"', '{"method":1}', '{"method":"tools/call","params":{"name":["delete_repo"]}}', '[null,1,"a"]']) {
      const response = await request(rs.app).post('/mcp').set('Authorization', `Bearer ${token}`).type('json').send(body);
      expect(response.status).toBe(200);
    }
  });

  it('a body larger than maxBodyBytes → 413, JSON-RPC -32600, without buffering it all', async () => {
    const small = mcpApp({ verifier, operationScopes, maxBodyBytes: 1024 });
    const response = await request(small.app).post('/mcp').set('Authorization', `Bearer ${token}`).type('json').send(JSON.stringify({ pad: 'x'.repeat(64 * 1024) }));
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe(-32600);
  });
});
