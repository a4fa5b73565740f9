import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { protectedResourceMetadata } from '@portcullis/protected-resource-metadata';
import { JWT_RESOURCE } from '@portcullis/test-fixtures';
import { bearerAuth } from '../src/index.js';
import { parseChallenge, startFixture, type Fixture } from './support.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(() => fx.close());

/** A stateless MCP SDK 1.x server behind bearerAuth; records which tools actually ran. */
function mcpSdkApp({ json }: { json: boolean }) {
  const ran: string[] = [];
  const app = express();
  if (json) app.use(express.json());
  app.use(protectedResourceMetadata(fx.resource));
  app.use(
    '/mcp',
    bearerAuth({
      verifier: fx.verifier,
      resource: fx.resource,
      requiredScopes: ['mcp:tools'],
      operationScopes: { 'tools/call': { delete_repo: ['mcp:admin'] } },
    }),
  );
  app.post('/mcp', async (req, res) => {
    const server = new McpServer({ name: 'portcullis-test', version: '0.0.0' });
    server.registerTool('whoami', { description: 'Echo the caller', inputSchema: { greeting: z.string() } }, async ({ greeting }, extra) => {
      ran.push('whoami');
      const auth = extra.authInfo!;
      return {
        content: [
          {
            type: 'text',
            text: JSON.stringify({ greeting, clientId: auth.clientId, scopes: auth.scopes, resource: String(auth.resource), expiresAt: auth.expiresAt }),
          },
        ],
      };
    });
    server.registerTool('delete_repo', { description: 'Dangerous' }, async () => {
      ran.push('delete_repo');
      return { content: [{ type: 'text', text: 'deleted' }] };
    });
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true }) // no sessionIdGenerator: stateless (S-30);
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  return { app, ran };
}

function rpc(app: express.Express, token: string | undefined, body: unknown) {
  const r = request(app).post('/mcp').set('Accept', 'application/json, text/event-stream').set('Content-Type', 'application/json');
  if (token) r.set('Authorization', `Bearer ${token}`);
  return r.send(JSON.stringify(body));
}

describe.each([
  ['without express.json() (bearerAuth reads the body and leaves it in req.body)', false],
  ['with express.json()', true],
])('S-01 S-10: MCP SDK 1.x StreamableHTTPServerTransport behind bearerAuth, %s', (_label, json) => {
  it('a tool handler reads extra.authInfo: the AuthInfo bearerAuth set on req.auth', async () => {
    const { app, ran } = mcpSdkApp({ json });
    const token = await fx.token('mcp:tools');
    const res = await rpc(app, token, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: { greeting: 'hi' } } });
    expect(res.status).toBe(200);
    expect(ran).toEqual(['whoami']);
    const text = JSON.parse(res.body.result.content[0].text);
    expect(text).toEqual({ greeting: 'hi', clientId: 'machine-client', scopes: ['mcp:tools'], resource: JWT_RESOURCE, expiresAt: expect.any(Number) });
  });

  it('tools/list works with the mount scope', async () => {
    const { app } = mcpSdkApp({ json });
    const res = await rpc(app, await fx.token('mcp:tools'), { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(res.status).toBe(200);
    expect(res.body.result.tools.map((t: { name: string }) => t.name).sort()).toEqual(['delete_repo', 'whoami']);
  });

  it('S-17: tools/call of delete_repo without mcp:admin → 403 before the tool runs; with it the tool runs', async () => {
    const { app, ran } = mcpSdkApp({ json });
    const call = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'delete_repo', arguments: {} } };
    const denied = await rpc(app, await fx.token('mcp:tools'), call);
    expect(denied.status).toBe(403);
    expect(parseChallenge(denied.headers['www-authenticate']).params).toMatchObject({ error: 'insufficient_scope', scope: 'mcp:tools mcp:admin' });
    expect(ran).toEqual([]);
    const allowed = await rpc(app, await fx.token('mcp:tools mcp:admin'), call);
    expect(allowed.status).toBe(200);
    expect(allowed.body.result.content[0].text).toBe('deleted');
    expect(ran).toEqual(['delete_repo']);
  });

  it('S-29: a mismatched Mcp-Name header is refused with -32020 before the SDK sees it', async () => {
    const { app, ran } = mcpSdkApp({ json });
    const res = await rpc(app, await fx.token('mcp:tools mcp:admin'), { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'delete_repo', arguments: {} } })
      .set('Mcp-Method', 'tools/call')
      .set('Mcp-Name', 'whoami');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ jsonrpc: '2.0', id: 4, error: { code: -32020 } });
    expect(ran).toEqual([]);
  });

  it('no token → 401 with the resource_metadata the metadata route serves', async () => {
    const { app } = mcpSdkApp({ json });
    const res = await rpc(app, undefined, { jsonrpc: '2.0', id: 5, method: 'tools/list' });
    expect(res.status).toBe(401);
    const url = new URL(parseChallenge(res.headers['www-authenticate']).params['resource_metadata']!);
    expect((await request(app).get(url.pathname)).body.resource).toBe(JWT_RESOURCE);
  });
});
