// Interop 5: our client (@portcullis/mcp-oauth-client inside the MCP SDK 1.x client) → an MCP SDK 1.x
// server guarded by the SDK's own requireBearerAuth and mcpAuthMetadataRouter (JWTs checked with
// jose, no Portcullis code on the server side) → the development authorization server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getOAuthProtectedResourceMetadataUrl, mcpAuthMetadataRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { OAuthMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import { startDevAuthorizationServer, type DevAuthorizationServer } from '@portcullis/dev-authorization-server';
import { asStoredTokens } from '@portcullis/mcp-oauth-client';
import express from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { connectOurClient, toolJson } from './support.js';

// The SDK's bearerAuth.d.ts augments Express's `Request.auth` with the SDK's AuthInfo, which conflicts in
// this one type-checked test program with @portcullis/bearer-auth/augment (tested elsewhere), so it is
// imported by a non-literal specifier and given its documented signature here.
const SDK_BEARER_AUTH: string = '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
const { requireBearerAuth } = (await import(SDK_BEARER_AUTH)) as {
  requireBearerAuth(options: {
    verifier: { verifyAccessToken(token: string): Promise<AuthInfo> };
    requiredScopes?: string[];
    resourceMetadataUrl?: string;
    expectedResource?: URL;
  }): express.RequestHandler;
};

let http: Server;
let as: DevAuthorizationServer;
let resource: string;

beforeAll(async () => {
  let app: express.Express | undefined;
  http = createServer((req, res) => (app ? app(req, res) : res.writeHead(503).end()));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  resource = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  as = await startDevAuthorizationServer({ resources: [{ uri: resource, scopes: ['mcp:tools'] }] });
  const oauthMetadata = (await (await fetch(`${as.issuer}/.well-known/oauth-authorization-server`)).json()) as OAuthMetadata;
  const keys = createRemoteJWKSet(new URL(oauthMetadata.jwks_uri!));

  app = express();
  app.use(mcpAuthMetadataRouter({ oauthMetadata, resourceServerUrl: new URL(resource), scopesSupported: ['mcp:tools'], resourceName: 'SDK-guarded server' }));
  const guard = requireBearerAuth({
    verifier: {
      async verifyAccessToken(token: string): Promise<AuthInfo> {
        const { payload } = await jwtVerify(token, keys, { issuer: as.issuer, audience: resource, typ: 'at+jwt' });
        return {
          token,
          clientId: String(payload['client_id']),
          scopes: String(payload['scope'] ?? '').split(' ').filter(Boolean),
          ...(payload.exp !== undefined && { expiresAt: payload.exp }),
          resource: new URL(resource),
          extra: { subject: payload.sub },
        };
      },
    },
    requiredScopes: ['mcp:tools'],
    resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(new URL(resource)),
    expectedResource: new URL(resource),
  });
  app.post('/mcp', express.json(), guard, async (req, res) => {
    const server = new McpServer({ name: 'sdk-guarded', version: '0.0.0' });
    server.registerTool('whoami', { description: 'who is calling' }, async (extra) => ({
      content: [{ type: 'text', text: JSON.stringify({ subject: extra.authInfo?.extra?.['subject'], clientId: extra.authInfo?.clientId, scopes: extra.authInfo?.scopes }) }],
    }));
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
});
afterAll(async () => {
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
  await as.close();
});

describe('interop 5: our client → an MCP SDK server guarded by its own requireBearerAuth', () => {
  it('C-02 C-04 discovers through the SDK metadata router, registers, authorizes and calls a tool', async () => {
    const { mcp, oauth, store, exchanges } = await connectOurClient(resource);
    try {
      // The SDK answers a missing token with 401 invalid_token (not RFC 6750 §3.1's code-less challenge); we cope.
      expect(exchanges[0]).toMatchObject({ rpc: 'initialize', status: 401 });
      expect(exchanges[0]!.challenge).toContain(`resource_metadata="${getOAuthProtectedResourceMetadataUrl(new URL(resource))}"`);
      const ctx = await oauth.context(resource);
      expect(ctx.discovery.resource).toBe(resource);
      expect(ctx.discovery.authorizationServer.issuer).toBe(as.issuer);
      expect(ctx.client.source).toBe('dynamic');
      expect(toolJson(await mcp.callTool({ name: 'whoami', arguments: {} }))).toEqual({ subject: 'demo-user', clientId: ctx.client.clientId, scopes: ['mcp:tools'] });

      // And a refresh through the same path when the access token has expired.
      const before = asStoredTokens(await store.get(ctx.tokensKey))!;
      await store.set(ctx.tokensKey, { ...before, expiresAt: Date.now() - 1000 });
      expect((await mcp.listTools()).tools.map((t) => t.name)).toEqual(['whoami']);
      expect(asStoredTokens(await store.get(ctx.tokensKey))!.accessToken).not.toBe(before.accessToken);
    } finally {
      await mcp.close();
    }
  });
});
