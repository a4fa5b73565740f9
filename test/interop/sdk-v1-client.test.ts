// Interop 1: the MCP SDK 1.x client (@modelcontextprotocol/sdk) with its own OAuthClientProvider →
// the example server (bearerAuth + PRM) → the development authorization server. Nothing of ours runs
// on the client side: discovery, registration, PKCE, the token request and step-up are the SDK's.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { startExampleServer, type ExampleServer } from '@portcullis/example-express-mcp-server';
import { BrowserlessSession } from '@portcullis/test-fixtures';
import { InMemoryProvider, REDIRECT_URI, toolJson } from './support.js';

/** An application's provider, with the hook SDK 1.x calls to drop what the server refused. */
class AppProvider extends InMemoryProvider<OAuthClientInformationMixed, OAuthTokens> implements OAuthClientProvider {
  readonly invalidated: string[] = [];
  constructor() {
    super('SDK 1.x interop');
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    this.invalidated.push(scope);
    if (scope === 'all' || scope === 'tokens') this.saved = undefined;
    if (scope === 'all' || scope === 'client') this.client = undefined;
  }
}

let server: ExampleServer;
beforeAll(async () => {
  server = await startExampleServer({ port: 0, devAuthorizationServer: { interactions: 'auto' } });
});
afterAll(() => server.close());

/** The user's browser: follows the authorization URL to the callback; the app checks state and iss (the SDK 1.x leaves both to it). */
async function userAuthorizes(provider: AppProvider): Promise<string> {
  const callback = await new BrowserlessSession().followToCallback(provider.authorizationUrl!, REDIRECT_URI);
  expect(callback.searchParams.get('state')).toBe(provider.expectedState);
  expect(callback.searchParams.get('iss')).toBe(server.issuer);
  return callback.searchParams.get('code')!;
}

/**
 * What an application on SDK 1.x does so that step-up re-authorizes. On a 403 `insufficient_scope` the
 * SDK 1.x calls `auth()`, which refreshes whenever it holds a refresh token; a refresh cannot widen the
 * grant, so the retried call meets the same 403 and the SDK gives up. The app therefore drops its tokens
 * when the server says they lack scope (`invalidateCredentials('tokens')`, the provider hook the SDK
 * itself uses for an `invalid_grant`): `auth()` then starts an authorization for the challenged scope.
 */
function dropTokensOnInsufficientScope(provider: AppProvider): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (response.status === 403 && /error="insufficient_scope"/.test(response.headers.get('www-authenticate') ?? '')) {
      provider.invalidateCredentials('tokens');
    }
    return response;
  };
}

async function connect(provider: AppProvider, fetchFn?: typeof fetch) {
  const options = { authProvider: provider, ...(fetchFn && { fetch: fetchFn }) };
  const first = new StreamableHTTPClientTransport(new URL(server.url), options);
  await expect(new Client({ name: 'sdk-v1-interop', version: '0.0.0' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  // The SDK asked for the scope of the 401 challenge and sent the resource indicator (RFC 8707).
  expect(provider.authorizationUrl!.searchParams.get('scope')).toBe('mcp:tools');
  expect(provider.authorizationUrl!.searchParams.get('resource')).toBe(server.resource);
  await first.finishAuth(await userAuthorizes(provider));
  const transport = new StreamableHTTPClientTransport(new URL(server.url), options);
  const client = new Client({ name: 'sdk-v1-interop', version: '0.0.0' });
  await client.connect(transport);
  return { client, transport };
}

describe('interop 1: MCP SDK 1.x client with its own OAuthClientProvider', () => {
  it('connects, calls whoami, meets 403 on admin_report, steps up and succeeds', async () => {
    const provider = new AppProvider();
    const { client, transport } = await connect(provider, dropTokensOnInsufficientScope(provider));
    try {
      const whoami = toolJson(await client.callTool({ name: 'whoami', arguments: {} }));
      expect(whoami).toEqual({ subject: 'demo-user', clientId: provider.client!.client_id, scopes: ['mcp:tools'] });

      await expect(client.callTool({ name: 'admin_report', arguments: {} })).rejects.toBeInstanceOf(UnauthorizedError);
      expect(provider.invalidated).toEqual(['tokens']);
      // S-18 S-19: the SDK 1.x asks for the challenged scope alone, so the 403 lists every scope the call needs.
      expect(provider.authorizationUrl!.searchParams.get('scope')).toBe('mcp:tools mcp:admin');
      await transport.finishAuth(await userAuthorizes(provider));

      const report = await client.callTool({ name: 'admin_report', arguments: {} });
      expect(report.isError).toBeFalsy();
      expect(toolJson(report)).toMatchObject({ report: 'portcullis example server', requestedBy: 'demo-user' });
      expect(toolJson(await client.callTool({ name: 'whoami', arguments: {} })).scopes).toEqual(['mcp:tools', 'mcp:admin']);
    } finally {
      await client.close();
    }
  });

  it('peer fact: without dropping its tokens, the SDK 1.x refreshes on 403, keeps the old scope and gives up', async () => {
    const provider = new AppProvider();
    const { client } = await connect(provider);
    try {
      const tokenRequests = server.devAuthorizationServer!.requestCount('/token');
      await expect(client.callTool({ name: 'admin_report', arguments: {} })).rejects.toThrow(/403 after trying upscoping/);
      // One refresh_token grant, no new authorization: the refreshed token still lacks mcp:admin.
      expect(server.devAuthorizationServer!.requestCount('/token')).toBe(tokenRequests + 1);
      expect(provider.saved?.scope).toBe('mcp:tools');
    } finally {
      await client.close();
    }
  });
});
