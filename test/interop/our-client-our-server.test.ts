// Interop 3 and 4: @portcullis/mcp-oauth-client (inside the MCP SDK 1.x client) → the example server
// (@portcullis/bearer-auth + protected-resource-metadata) → the development authorization server,
// with JWT access tokens (RFC 9068) and with opaque tokens verified by introspection (RFC 7662).
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { optionsFromEnv, startExampleServer, type ExampleServer } from '@portcullis/example-express-mcp-server';
import { asStoredTokens } from '@portcullis/mcp-oauth-client';
import { generateKeyPair } from 'jose';
import { connectOurClient, toolJson } from './support.js';

/** A POST with the Host and Origin (`null`: none) of the caller's choosing: node:http, as fetch will not send a Host header one sets. */
function post(url: string, host: string, origin: string | null = `http://${host}`): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers = { host, 'content-type': 'application/json', ...(origin !== null && { origin }) };
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      res.resume();
      resolve(res);
    });
    req.on('error', reject).end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
  });
}

describe.each([
  ['3: JWT access tokens', 'jwt' as const],
  ['4: opaque access tokens through introspection', 'opaque' as const],
])('interop %s', (_label, tokenFormat) => {
  let server: ExampleServer;
  beforeAll(async () => {
    server = await startExampleServer({ port: 0, tokenFormat, devAuthorizationServer: { interactions: 'auto' } });
  });
  afterAll(() => server.close());

  it('S-04 S-06 C-02 401 → discovery → registration → authorization → whoami → 403 insufficient_scope → step-up → admin_report', async () => {
    const { mcp, oauth, store, exchanges } = await connectOurClient(server.url);
    try {
      const dev = server.devAuthorizationServer!;
      // The first request met a 401 with the PRM URL and the scope every request needs.
      expect(exchanges[0]).toMatchObject({ rpc: 'initialize', status: 401 });
      expect(exchanges[0]!.challenge).toContain(`resource_metadata="${server.metadataUrl}"`);
      expect(exchanges[0]!.challenge).toContain('scope="mcp:tools"');
      expect(dev.requestCount('/reg')).toBe(1);

      const whoami = toolJson(await mcp.callTool({ name: 'whoami', arguments: {} }));
      const ctx = await oauth.context(server.url);
      expect(whoami).toEqual({ subject: 'demo-user', clientId: ctx.client.clientId, scopes: ['mcp:tools'] });

      const stored = asStoredTokens(await store.get(ctx.tokensKey))!;
      // JWT: three segments with aud = this resource; opaque: not a JWT, and the server had to introspect.
      if (tokenFormat === 'jwt') expect(stored.accessToken.split('.')).toHaveLength(3);
      else expect(stored.accessToken).not.toContain('.');
      const introspectionsBefore = dev.requestCount('/token/introspection');

      const report = await mcp.callTool({ name: 'admin_report', arguments: {} });
      expect(report.isError).toBeFalsy();
      expect(toolJson(report)).toMatchObject({ report: 'portcullis example server', requestedBy: 'demo-user' });
      // S-17 S-18: the 403 named every scope the call needs, and the client stepped up to them.
      const denied = exchanges.find((e) => e.status === 403)!;
      expect(denied.rpc).toBe('tools/call admin_report');
      expect(denied.challenge).toContain('error="insufficient_scope"');
      expect(denied.challenge).toContain('scope="mcp:tools mcp:admin"');
      expect(asStoredTokens(await store.get(ctx.tokensKey))!.scope?.split(' ')).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin']));
      expect(toolJson(await mcp.callTool({ name: 'whoami', arguments: {} })).scopes).toEqual(['mcp:tools', 'mcp:admin']);
      if (tokenFormat === 'opaque') expect(dev.requestCount('/token/introspection')).toBeGreaterThan(introspectionsBefore);
      else expect(dev.requestCount('/token/introspection')).toBe(0);
    } finally {
      await mcp.close();
    }
  });

  it('X-12 RFC 9449 §7.1 a client holding a DPoP key pair, an AS that advertises DPoP and a Bearer-only server: Bearer tokens, one authorization', async () => {
    const dev = server.devAuthorizationServer!;
    const metadata = (await (await fetch(`${dev.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata['dpop_signing_alg_values_supported']).toEqual(expect.arrayContaining(['ES256']));
    const codeGrantsBefore = dev.grantCount('authorization_code');
    const { mcp, oauth, store } = await connectOurClient(server.url, { dpopKeyPair: await generateKeyPair('ES256') });
    try {
      expect(toolJson(await mcp.callTool({ name: 'whoami', arguments: {} }))).toMatchObject({ subject: 'demo-user' });
      const stored = asStoredTokens(await store.get((await oauth.context(server.url)).tokensKey))!;
      expect(stored.tokenType).toBe('Bearer');
      expect(dev.grantCount('authorization_code') - codeGrantsBefore).toBe(1);
    } finally {
      await mcp.close();
    }
  });

  it('S-28 bound to loopback, it refuses a request addressed to another host (DNS rebinding) with 403, before authentication', async () => {
    const rebound = await post(server.url, 'evil.example.com');
    expect(rebound.statusCode).toBe(403);
    expect(rebound.headers['www-authenticate']).toBeUndefined();
    expect((await post(server.metadataUrl, 'evil.example.com:80')).statusCode).toBe(403);
    // Addressed to a loopback name, the same request reaches bearerAuth (401).
    expect((await post(server.url, `localhost:${new URL(server.url).port}`)).statusCode).toBe(401);
  });

  it('S-28 a request from a browser page of another origin is refused with 403 before authentication; loopback origins and none pass', async () => {
    const host = `localhost:${new URL(server.url).port}`;
    for (const origin of ['http://evil.example.com', 'https://attacker.test:8443', 'null', `http://${host}/path`]) {
      const refused = await post(server.url, host, origin);
      expect([origin, refused.statusCode]).toEqual([origin, 403]);
      expect(refused.headers['www-authenticate']).toBeUndefined();
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    }
    // A local tool's page (the MCP Inspector's port), the server's own origin, and a client that sends no Origin reach bearerAuth.
    for (const origin of ['http://localhost:6274', 'http://127.0.0.1:6274', `http://${host}`, null]) {
      const response = await post(server.url, host, origin);
      expect([origin, response.statusCode]).toEqual([origin, 401]);
      if (origin) expect(response.headers['access-control-allow-origin']).toBe(origin);
    }
  });

  it('C-39 an expired access token is refreshed (rotation) and the call goes through', async () => {
    const { mcp, oauth, store } = await connectOurClient(server.url);
    try {
      const ctx = await oauth.context(server.url);
      const before = asStoredTokens(await store.get(ctx.tokensKey))!;
      await store.set(ctx.tokensKey, { ...before, expiresAt: Date.now() - 1000 });
      const tokenRequests = server.devAuthorizationServer!.requestCount('/token');
      expect(toolJson(await mcp.callTool({ name: 'whoami', arguments: {} })).subject).toBe('demo-user');
      const after = asStoredTokens(await store.get(ctx.tokensKey))!;
      expect(server.devAuthorizationServer!.requestCount('/token')).toBe(tokenRequests + 1);
      expect(after.accessToken).not.toBe(before.accessToken);
      expect(after.refreshToken).not.toBe(before.refreshToken);
    } finally {
      await mcp.close();
    }
  });

  it('S-14 a token for another resource is refused with 401 invalid_token', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-token-this-server-knows', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});

describe('S-28 the example server with its own list of allowed origins', () => {
  let server: ExampleServer;
  beforeAll(async () => {
    server = await startExampleServer({ port: 0, allowedOrigins: ['https://App.Example.com:443/'], devAuthorizationServer: { interactions: 'auto' } });
  });
  afterAll(() => server.close());

  it('S-28 lets only the listed origins through (as browsers serialise them); loopback pages are refused too', async () => {
    const host = `127.0.0.1:${new URL(server.url).port}`;
    const listed = await post(server.url, host, 'https://app.example.com');
    expect(listed.statusCode).toBe(401);
    expect(listed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect((await post(server.url, host, 'http://localhost:6274')).statusCode).toBe(403);
    expect((await post(server.url, host, 'http://app.example.com')).statusCode).toBe(403);
    expect((await post(server.url, host, null)).statusCode).toBe(401);
  });

  it('S-28 an allowed origin that is not an http(s) URL stops the start with a TypeError; MCP_ALLOWED_ORIGINS sets the list', async () => {
    await expect(startExampleServer({ port: 0, allowedOrigins: ['app.example.com'] })).rejects.toThrow(/not a URL/);
    await expect(startExampleServer({ port: 0, allowedOrigins: ['ftp://app.example.com'] })).rejects.toThrow(/not http\(s\)/);
    expect(optionsFromEnv({ MCP_ALLOWED_ORIGINS: 'https://a.example, http://localhost:6274' }).allowedOrigins).toEqual(['https://a.example', 'http://localhost:6274']);
    expect(optionsFromEnv({}).allowedOrigins).toBeUndefined();
    expect(optionsFromEnv({ MCP_ALLOWED_ORIGINS: '' }).allowedOrigins).toBeUndefined(); // empty, as unset (like the other variables)
  });
});
