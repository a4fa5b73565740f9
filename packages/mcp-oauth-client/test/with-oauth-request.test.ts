import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startLocalServer, type LocalServer } from '@portcullis/test-fixtures';
import type { AuthStrategy } from '../src/auth-strategy.js';
import { staticToken } from '../src/static-token.js';
import { withOAuth } from '../src/with-oauth.js';
import { stubWorld } from './helpers/stub-world.js';

const MCP = 'https://mcp.example.com/mcp';
const rpc = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';

/** Answers 401 to the first token and accepts the second: the request is sent twice. */
const renewOnce: AuthStrategy<number> = {
  start: () => 1,
  headers: (_request, n) => ({ authorization: `Bearer t${n}` }),
  onChallenge: ({ status }, n) => (status === 401 ? { action: 'retry', state: n + 1 } : { action: 'fail' }),
};

describe('withOAuth with a Request as input', () => {
  it('sends its method, headers and body, with the token, on the first request and again after a 401', async () => {
    const world = stubWorld({
      [MCP]: (r) => (r.headers.get('authorization') === 'Bearer t2' ? Response.json({ ok: true }) : new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer' } })),
    });
    const request = new Request(MCP, { method: 'POST', headers: { 'content-type': 'application/json', 'mcp-session-id': 's1' }, body: rpc });
    const response = await withOAuth(world.fetch, renewOnce)(request);
    expect(response.status).toBe(200);
    expect(world.requests.map((r) => [r.method, r.headers.get('mcp-session-id'), r.headers.get('content-type'), r.body, r.headers.get('authorization')])).toEqual([
      ['POST', 's1', 'application/json', rpc, 'Bearer t1'],
      ['POST', 's1', 'application/json', rpc, 'Bearer t2'],
    ]);
  });

  it('a field given in init replaces the request\'s, as fetch does: method, headers as a whole, body', async () => {
    const world = stubWorld({ [MCP]: () => Response.json({ ok: true }) });
    const authed = withOAuth(world.fetch, staticToken('T'));
    const request = () => new Request(MCP, { method: 'POST', headers: { 'x-from-request': '1' }, body: 'from request' });
    await authed(request(), { method: 'PUT', headers: { 'x-from-init': '1' } });
    await authed(request(), { body: 'from init' });
    expect(world.requests.map((r) => [r.method, r.headers.get('x-from-request'), r.headers.get('x-from-init'), r.body])).toEqual([
      ['PUT', null, '1', 'from request'],
      ['POST', '1', null, 'from init'],
    ]);
  });

  describe('its signal', () => {
    let server: LocalServer;
    beforeAll(async () => {
      server = await startLocalServer((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    afterAll(async () => {
      await server.close();
    });

    it('aborts the call; a signal in init takes its place', async () => {
      const authed = withOAuth(globalThis.fetch, staticToken('T'));
      const aborted = new Request(`${server.url}/mcp`, { signal: AbortSignal.abort() });
      await expect(authed(aborted)).rejects.toMatchObject({ name: 'AbortError' });
      expect(server.requests).toBe(0);
      const response = await authed(new Request(`${server.url}/mcp`, { signal: AbortSignal.abort() }), { signal: new AbortController().signal });
      expect(response.status).toBe(200);
    });
  });
});

describe('withOAuth with a body other than a string', () => {
  const sendOnce = async (init: RequestInit) => {
    const world = stubWorld({ [MCP]: () => Response.json({ ok: true }) });
    await withOAuth(world.fetch, staticToken('T'))(MCP, { method: 'POST', ...init });
    return world.requests[0]!;
  };

  it('keeps the content-type fetch implies for form parameters and a typed Blob, unless the caller set one', async () => {
    const form = await sendOnce({ body: new URLSearchParams({ a: '1' }) });
    expect([form.headers.get('content-type'), form.body]).toEqual(['application/x-www-form-urlencoded;charset=UTF-8', 'a=1']);
    const blob = await sendOnce({ body: new Blob(['{"x":1}'], { type: 'application/json' }) });
    expect([blob.headers.get('content-type'), blob.body]).toEqual(['application/json', '{"x":1}']);
    const own = await sendOnce({ headers: { 'content-type': 'text/x-custom' }, body: new URLSearchParams({ a: '1' }) });
    expect(own.headers.get('content-type')).toBe('text/x-custom');
  });

  it('keeps the multipart boundary of a FormData: the server can parse what it receives', async () => {
    const data = new FormData();
    data.set('name', 'value');
    const sent = await sendOnce({ body: data });
    const contentType = sent.headers.get('content-type') ?? '';
    expect(contentType).toMatch(/^multipart\/form-data; boundary=/);
    const parsed = await new Response(sent.body, { headers: { 'content-type': contentType } }).formData();
    expect(parsed.get('name')).toBe('value');
  });
});
