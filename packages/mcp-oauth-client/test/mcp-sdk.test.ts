import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { startTestAuthorizationServer, type DevAuthorizationServer } from '@portcullis/test-fixtures';
import { createHeadlessAuthorizationHandler } from '../src/headless-authorization.js';
import { mcpTransportOAuth } from '../src/mcp-sdk.js';
import { createMemoryStore } from '../src/token-store.js';
import { startResourceServer, type TestResourceServer } from './helpers/resource-server.js';

let as: DevAuthorizationServer;
let rs: TestResourceServer;
const redirectUri = 'http://127.0.0.1:65000/callback';

/** A stateless MCP server (SDK 1.x) behind the test resource server's bearer check. */
async function mcp(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
  const server = new McpServer({ name: 'test', version: '1.0.0' });
  server.registerTool('echo', { description: 'echo' }, async () => ({ content: [{ type: 'text', text: 'hello' }] }));
  const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true }); // no session id generator: stateless
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body ? (JSON.parse(body) as unknown) : undefined);
}

beforeAll(async () => {
  rs = await startResourceServer({ scopesSupported: ['mcp:tools'] });
  as = await startTestAuthorizationServer({ resources: [{ uri: rs.url, scopes: ['mcp:tools'] }] });
  rs.issuer = as.issuer;
  rs.onAuthorized = mcp;
});
afterAll(async () => {
  await rs.close();
  await as.close();
});

const oauthOptions = () => ({ redirectUri, allowInsecureLoopback: true, authorizationHandler: createHeadlessAuthorizationHandler(), store: createMemoryStore() });

describe('MCP TypeScript SDK adapters (through the transport fetch option)', () => {
  it('SDK 1.x StreamableHTTPClientTransport: connect, list and call tools with OAuth', async () => {
    const { transportOptions } = mcpTransportOAuth(oauthOptions());
    const client = new ClientV1({ name: 'portcullis-test', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(rs.url), transportOptions));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    expect((await client.callTool({ name: 'echo', arguments: {} })).content).toEqual([{ type: 'text', text: 'hello' }]);
    await client.close();
  });

  it('SDK 2.x @modelcontextprotocol/client: connect and list tools with OAuth', async () => {
    const { transportOptions } = mcpTransportOAuth(oauthOptions());
    const client = new ClientV2({ name: 'portcullis-test', version: '1.0.0' });
    await client.connect(new TransportV2(new URL(rs.url), transportOptions));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    await client.close();
  });
});
