import { describe, expect, it } from '@jest/globals';
import { createOAuthClient } from '../src/oauth-client.js';
import { withOAuth } from '../src/with-oauth.js';
import { asMetadata, stubWorld } from './helpers/stub-world.js';

const MCP = 'https://mcp.example.com';
const AS = 'https://as.example.com';

describe('withOAuth and the caller\'s AbortSignal', () => {
  it('an abort during an interactive authorization ends the call at once with the signal\'s reason', async () => {
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [AS] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
      [`${MCP}/mcp`]: () => new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer' } }),
    });
    let prompted!: () => void;
    const promptShown = new Promise<void>((resolve) => (prompted = resolve));
    const client = createOAuthClient({
      oauthFetch: world.fetch,
      redirectUri: 'http://127.0.0.1:8765/callback',
      preRegistered: [{ clientId: 'app', issuer: AS }],
      // The user never comes back from the browser.
      authorizationHandler: () => {
        prompted();
        return new Promise<string>(() => {});
      },
    });
    const controller = new AbortController();
    const call = withOAuth(world.fetch, client)(`${MCP}/mcp`, { signal: controller.signal });
    await promptShown;
    const reason = new Error('the user pressed Ctrl-C');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
  });
});
