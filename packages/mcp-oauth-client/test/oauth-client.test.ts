import { describe, expect, it } from '@jest/globals';
import { createOAuthClient } from '../src/oauth-client.js';
import { asMetadata, stubWorld, tokenResponse } from './helpers/stub-world.js';

// The real orchestrator; only the network edge (fetch) and the browser (authorization handler) are stubs.
const MCP = 'https://mcp.example.com';
const AS = 'https://as.example.com';

describe('oauth-client', () => {
  it.each([
    ['http://app.example.com/callback', /https or a loopback http URL/],
    ['ftp://127.0.0.1/callback', /https or a loopback http URL/],
    ['/callback', /absolute URL/],
    ['https://app.example.com/callback#frag', /fragment/],
  ])('C-40 refuses redirectUri %s at construction (invalid_options)', (redirectUri, message) => {
    expect(() => createOAuthClient({ redirectUri })).toThrow(expect.objectContaining({ code: 'invalid_options', message: expect.stringMatching(message) }));
  });

  it.each(['https://app.example.com/callback', 'http://127.0.0.1:8765/callback', 'http://localhost/cb', 'http://[::1]:9/cb'])(
    'C-40 accepts redirectUri %s',
    (redirectUri) => {
      expect(() => createOAuthClient({ redirectUri })).not.toThrow();
    },
  );

  it('C-22 keeps the granted scope when a refresh response omits it, so a step-up asks for old and new scopes', async () => {
    let clock = 1_000_000;
    let tokenCalls = 0;
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [AS] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
      [`${AS}/token`]: () => {
        tokenCalls++;
        // The first (code) response names the scope; the refresh omits it (unchanged, RFC 6749 §5.1).
        return tokenResponse(`at-${tokenCalls}`, { refresh_token: `rt-${tokenCalls}`, expires_in: 120, ...(tokenCalls === 1 && { scope: 'read' }) });
      },
    });
    const requestedScopes: Array<string | null> = [];
    const client = createOAuthClient({
      oauthFetch: world.fetch,
      now: () => clock,
      redirectUri: 'http://127.0.0.1:8765/callback',
      preRegistered: [{ clientId: 'app', issuer: AS }],
      authorizationHandler: async (url) => {
        requestedScopes.push(url.searchParams.get('scope'));
        return `http://127.0.0.1:8765/callback?code=c&state=${url.searchParams.get('state')}`;
      },
    });
    expect((await client.handleChallenge(`${MCP}/mcp`, { scheme: 'bearer', params: {}, scopes: ['read'] }, undefined)).scope).toBe('read');
    clock += 119_000; // within the refresh skew
    const refreshed = await client.tokens(`${MCP}/mcp`);
    expect(refreshed?.accessToken).toBe('at-2');
    expect(refreshed?.scope).toBe('read');
    await client.handleChallenge(`${MCP}/mcp`, { scheme: 'bearer', error: 'insufficient_scope', params: {}, scopes: ['write'] }, refreshed!.accessToken);
    expect(requestedScopes[1]?.split(' ').sort()).toEqual(['read', 'write']);
  });
});
