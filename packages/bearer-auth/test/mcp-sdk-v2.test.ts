import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { z } from 'zod';
import { McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { JWT_RESOURCE } from '@portcullis/test-fixtures';
import type { AuthInfo } from '@portcullis/token-verification';
import { bearerAuth } from '../src/index.js';
import { parseChallenge, startFixture, type Fixture } from './support.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(() => fx.close());

/**
 * MCP SDK 2.x serves Web-standard Requests and takes `authInfo` as an explicit option; the
 * Node bridge (`@modelcontextprotocol/node`) is not a dependency here, so the test converts by hand:
 * the parsed body bearerAuth left on req.body, and req.auth as authInfo.
 */
function mcpSdkV2App() {
  const ran: string[] = [];
  const app = express();
  app.use('/mcp', bearerAuth({ verifier: fx.verifier, resource: fx.resource, operationScopes: { 'tools/call': { delete_repo: ['mcp:admin'] } } }));
  app.post('/mcp', async (req, res, next) => {
    try {
      const server = new McpServer({ name: 'portcullis-v2', version: '0.0.0' });
      server.registerTool('whoami', { description: 'Echo the caller', inputSchema: z.object({ greeting: z.string() }) }, async ({ greeting }, ctx) => {
        ran.push('whoami');
        const auth = ctx.http?.authInfo;
        return { content: [{ type: 'text', text: JSON.stringify({ greeting, clientId: auth?.clientId, scopes: auth?.scopes, resource: String(auth?.resource) }) }] };
      });
      server.registerTool('delete_repo', { description: 'Dangerous' }, async () => {
        ran.push('delete_repo');
        return { content: [{ type: 'text', text: 'deleted' }] };
      });
      const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
      await server.connect(transport);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const webRequest = new Request(`http://127.0.0.1${req.originalUrl}`, { method: 'POST', headers, body: JSON.stringify(req.body) });
      const auth = (req as unknown as { auth: AuthInfo }).auth;
      const response = await transport.handleRequest(webRequest, { parsedBody: req.body, authInfo: auth });
      res.status(response.status);
      response.headers.forEach((v, k) => res.setHeader(k, v));
      res.end(Buffer.from(await response.arrayBuffer()));
      await server.close();
    } catch (error) {
      next(error);
    }
  });
  return { app, ran };
}

function rpc(app: express.Express, token: string, body: unknown) {
  return request(app)
    .post('/mcp')
    .set('Accept', 'application/json, text/event-stream')
    .set('Content-Type', 'application/json')
    .set('Authorization', `Bearer ${token}`)
    .send(JSON.stringify(body));
}

describe('MCP SDK 2.x WebStandardStreamableHTTPServerTransport behind bearerAuth (no body parser)', () => {
  it('a tool handler reads ctx.http.authInfo, the AuthInfo bearerAuth set on req.auth', async () => {
    const { app, ran } = mcpSdkV2App();
    const res = await rpc(app, await fx.token('mcp:tools'), { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: { greeting: 'hi' } } });
    expect(res.status).toBe(200);
    expect(ran).toEqual(['whoami']);
    expect(JSON.parse(res.body.result.content[0].text)).toEqual({ greeting: 'hi', clientId: 'machine-client', scopes: ['mcp:tools'], resource: JWT_RESOURCE });
  });

  it('S-17: delete_repo without mcp:admin → 403 before the tool runs', async () => {
    const { app, ran } = mcpSdkV2App();
    const res = await rpc(app, await fx.token('mcp:tools'), { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'delete_repo', arguments: {} } });
    expect(res.status).toBe(403);
    expect(parseChallenge(res.headers['www-authenticate']).params['scope']).toBe('mcp:admin');
    expect(ran).toEqual([]);
  });
});
