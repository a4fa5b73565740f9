// Interop 2: the MCP SDK 2.x client (@modelcontextprotocol/client) with its own OAuthClientProvider →
// the example server (bearerAuth + PRM) → the development authorization server.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Client,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
} from '@modelcontextprotocol/client';
import { startExampleServer, type ExampleServer } from '@portcullis/example-express-mcp-server';
import { BrowserlessSession } from '@portcullis/test-fixtures';
import { InMemoryProvider, REDIRECT_URI, toolJson } from './support.js';

/** An application's provider, with the discovery state SDK 2.x keeps beside the code verifier. */
class AppProvider extends InMemoryProvider<StoredOAuthClientInformation, StoredOAuthTokens> implements OAuthClientProvider {
  discovery: OAuthDiscoveryState | undefined;
  constructor() {
    super('SDK 2.x interop');
  }
  // Kept with the code verifier so the SDK can bind the callback to the authorization server (SEP-2352).
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery;
  }
}

let server: ExampleServer;
beforeAll(async () => {
  server = await startExampleServer({ port: 0, devAuthorizationServer: { interactions: 'auto' } });
});
afterAll(() => server.close());

/** The user's browser; the SDK 2.x leaves the state check to the app and checks `iss` itself in finishAuth. */
async function userAuthorizes(provider: AppProvider): Promise<URLSearchParams> {
  const callback = await new BrowserlessSession().followToCallback(provider.authorizationUrl!, REDIRECT_URI);
  expect(callback.searchParams.get('state')).toBe(provider.expectedState);
  return callback.searchParams;
}

describe('interop 2: MCP SDK 2.x client with its own OAuthClientProvider', () => {
  it('connects, calls whoami, meets 403 on admin_report, steps up and succeeds', async () => {
    const provider = new AppProvider();
    const newClient = () => new Client({ name: 'sdk-v2-interop', version: '0.0.0' }, { versionNegotiation: { mode: 'auto' } });
    const first = new StreamableHTTPClientTransport(new URL(server.url), { authProvider: provider });
    await expect(newClient().connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.authorizationUrl!.searchParams.get('scope')).toContain('mcp:tools');
    expect(provider.authorizationUrl!.searchParams.get('resource')).toBe(server.resource);
    await first.finishAuth(await userAuthorizes(provider));

    const transport = new StreamableHTTPClientTransport(new URL(server.url), { authProvider: provider });
    const client = newClient();
    await client.connect(transport);
    try {
      const whoami = toolJson(await client.callTool({ name: 'whoami', arguments: {} }));
      expect(whoami).toMatchObject({ subject: 'demo-user', clientId: provider.client!.client_id });
      expect(whoami['scopes']).not.toContain('mcp:admin');

      // The SDK 2.x steps up by itself: granted ∪ challenged is wider than the token, so it re-authorizes instead of refreshing.
      await expect(client.callTool({ name: 'admin_report', arguments: {} })).rejects.toBeInstanceOf(UnauthorizedError);
      expect(provider.authorizationUrl!.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin']));
      await transport.finishAuth(await userAuthorizes(provider));

      const report = await client.callTool({ name: 'admin_report', arguments: {} });
      expect(report.isError).toBeFalsy();
      expect(toolJson(report)).toMatchObject({ report: 'portcullis example server', requestedBy: 'demo-user' });
      expect(toolJson(await client.callTool({ name: 'whoami', arguments: {} }))['scopes']).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin']));
    } finally {
      await client.close();
    }
  });
});
