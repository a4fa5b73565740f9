// Issue 8, the example server's `upstream_whoami` tool: our client (inside the MCP SDK 1.x client) calls
// it through the example server, which calls its second local service (the upstream API, node:http +
// bearer-auth) on behalf of the user with a token exchanged at the in-process dev AS (RFC 8693) —
// never the user's own token (no token passthrough, S-13 B-01). JWT and opaque user tokens.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TOKEN_EXCHANGE_GRANT_TYPE } from '@portcullis/dev-authorization-server';
import { optionsFromEnv, startExampleServer, type ExampleServer } from '@portcullis/example-express-mcp-server';
import { asStoredTokens } from '@portcullis/mcp-oauth-client';
import { clientCredentialsToken, MACHINE_CLIENT, startTestAuthorizationServer, type DevAuthorizationServer } from '@portcullis/test-fixtures';
import { connectOurClient, toolJson } from './support.js';

describe.each([
  ['JWT user tokens', 'jwt' as const],
  ['opaque user tokens (introspection)', 'opaque' as const],
])('upstream_whoami with %s', (_label, tokenFormat) => {
  let server: ExampleServer;
  /** Every Authorization header the upstream API received. */
  const received: (string | undefined)[] = [];
  beforeAll(async () => {
    server = await startExampleServer({
      port: 0,
      tokenFormat,
      devAuthorizationServer: { interactions: 'auto' },
      upstream: { onRequest: (authorization) => received.push(authorization) },
    });
  });
  afterAll(() => server.close());

  it('S-13 B-01 the upstream sees aud = itself, sub = the user, act.sub = the example server’s client — never the user’s token; a second call makes no new exchange', async () => {
    const { mcp, oauth, store } = await connectOurClient(server.url);
    try {
      const dev = server.devAuthorizationServer!;
      const upstream = server.upstream!;
      expect(upstream.clientId).toBe('example-mcp-server');
      const tools = (await mcp.listTools()).tools.map((t) => t.name);
      expect(tools).toContain('upstream_whoami');

      const exchangesBefore = dev.grantCount(TOKEN_EXCHANGE_GRANT_TYPE);
      const tokenRequestsBefore = dev.requestCount('/token');
      const first = await mcp.callTool({ name: 'upstream_whoami', arguments: {} });
      expect(first.isError).toBeFalsy();
      const expected = {
        upstream: upstream.url,
        upstreamSaw: { sub: 'demo-user', act: { sub: upstream.clientId }, aud: upstream.url, client_id: upstream.clientId, token_fingerprint: expect.stringMatching(/^#[0-9a-f]{8}$/) },
      };
      expect(toolJson(first)).toEqual(expected);
      expect(dev.grantCount(TOKEN_EXCHANGE_GRANT_TYPE)).toBe(exchangesBefore + 1);

      const second = await mcp.callTool({ name: 'upstream_whoami', arguments: {} });
      expect(toolJson(second)).toEqual(expected);
      // One exchange for both calls (cached until the exchanged token's expiry), and no other token request.
      expect(dev.grantCount(TOKEN_EXCHANGE_GRANT_TYPE)).toBe(exchangesBefore + 1);
      expect(dev.requestCount('/token')).toBe(tokenRequestsBefore + 1);

      const ctx = await oauth.context(server.url);
      const userToken = asStoredTokens(await store.get(ctx.tokensKey))!.accessToken;
      expect(received).toHaveLength(2);
      for (const authorization of received) {
        expect(authorization).toMatch(/^Bearer [\w.-]+$/);
        expect(authorization).not.toContain(userToken);
      }
      // Both calls carried the same exchanged token: a JWT (RFC 9068) for the upstream, whatever the user's token format.
      expect(received[0]).toBe(received[1]);
      expect(received[0]!.slice('Bearer '.length).split('.')).toHaveLength(3);
      const fingerprint = (token: string) => `#${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;
      const saw = toolJson(first)['upstreamSaw'] as Record<string, unknown>;
      expect(saw['token_fingerprint']).toBe(fingerprint(received[0]!.slice('Bearer '.length)));
      expect(saw['token_fingerprint']).not.toBe(fingerprint(userToken));

      // And the user's token is no good at the upstream itself: it was issued for the MCP server.
      const direct = await fetch(upstream.url, { headers: { authorization: `Bearer ${userToken}` } });
      expect(direct.status).toBe(401);
      expect(direct.headers.get('www-authenticate')).toContain('error="invalid_token"');
    } finally {
      await mcp.close();
    }
  });

  it('the upstream API is an RFC 9728 protected resource of the same AS, and refuses requests without a token', async () => {
    const upstream = server.upstream!;
    const origin = new URL(upstream.url).origin;
    const metadata = (await (await fetch(`${origin}/.well-known/oauth-protected-resource/api`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ resource: upstream.url, authorization_servers: [server.issuer], scopes_supported: ['upstream:read'] });
    const response = await fetch(upstream.url);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('resource_metadata=');
  });
});

describe('upstream_whoami with an external authorization server (AUTH_ISSUER)', () => {
  const RESOURCE = 'https://mcp.upstream-tool.portcullis.test/mcp';
  let as: DevAuthorizationServer;
  let server: ExampleServer;
  beforeAll(async () => {
    as = await startTestAuthorizationServer({ resources: [{ uri: RESOURCE, scopes: ['mcp:tools', 'mcp:admin'] }] });
    server = await startExampleServer({ port: 0, issuer: as.issuer, resource: RESOURCE });
  });
  afterAll(async () => {
    await server.close();
    await as.close();
  });

  it('is not registered without UPSTREAM_CLIENT_ID / _SECRET, and no upstream API starts', async () => {
    expect(server.upstream).toBeUndefined();
    const { access_token } = await clientCredentialsToken(as, { resource: RESOURCE, scope: 'mcp:tools', client: MACHINE_CLIENT });
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(200);
    const { result } = (await response.json()) as { result: { tools: { name: string }[] } };
    expect(result.tools.map((t) => t.name).sort()).toEqual(['admin_report', 'echo', 'whoami']);
  });

  it('the environment: UPSTREAM_CLIENT_ID and _SECRET go together, UPSTREAM_PORT is a port', () => {
    expect(optionsFromEnv({ AUTH_ISSUER: as.issuer }).upstream).toBeUndefined();
    expect(optionsFromEnv({ AUTH_ISSUER: as.issuer, UPSTREAM_CLIENT_ID: 'mcp', UPSTREAM_CLIENT_SECRET: 's3cret', UPSTREAM_PORT: '4100' }).upstream).toEqual({
      client: { clientId: 'mcp', clientSecret: 's3cret' },
      port: 4100,
    });
    expect(() => optionsFromEnv({ UPSTREAM_CLIENT_ID: 'mcp' })).toThrow(/UPSTREAM_CLIENT_SECRET/);
    expect(() => optionsFromEnv({ UPSTREAM_PORT: 'http' })).toThrow(/UPSTREAM_PORT/);
  });
});
