import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { createOAuthClient } from '../src/oauth-client.js';
import { createMemoryStore } from '../src/token-store.js';
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

  it('C-25 (RFC 8707 §2) a code is not exchanged when the resource changed while its authorization was pending', async () => {
    let resource = `${MCP}/mcp`;
    let tokenCalls = 0;
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource, authorization_servers: [AS] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
      [`${AS}/token`]: () => (tokenCalls++, tokenResponse('at-1')),
    });
    const client = createOAuthClient({ oauthFetch: world.fetch, redirectUri: 'http://127.0.0.1:8765/callback', preRegistered: [{ clientId: 'app', issuer: AS }] });
    const { state } = await client.startAuthorization(`${MCP}/mcp`);
    // The metadata now names the whole origin (a prefix of the server URL, so discovery accepts it).
    resource = MCP;
    await client.context(`${MCP}/mcp`, undefined, { refresh: true });
    await expect(client.completeAuthorization(`http://127.0.0.1:8765/callback?code=c&state=${state}`)).rejects.toMatchObject({ code: 'resource_mismatch' });
    expect(tokenCalls).toBe(0);
  });

  it('C-30 C-37 a handler that answers with another pending authorization\'s callback gets state_mismatch; that code is not exchanged', async () => {
    const OTHER = 'https://other.example.com';
    let tokenCalls = 0;
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [AS] }),
      [`${OTHER}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${OTHER}/mcp`, authorization_servers: [AS] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
      [`${AS}/token`]: () => (tokenCalls++, tokenResponse(`at-${tokenCalls}`)),
    });
    let otherCallback = '';
    const client = createOAuthClient({
      oauthFetch: world.fetch,
      redirectUri: 'http://127.0.0.1:8765/callback',
      preRegistered: [{ clientId: 'app', issuer: AS }],
      // One redirect URI for both flows: this handler hands back whichever callback arrived.
      authorizationHandler: async () => otherCallback,
    });
    const { state } = await client.startAuthorization(`${OTHER}/mcp`);
    otherCallback = `http://127.0.0.1:8765/callback?code=for-other&state=${state}`;
    await expect(client.handleChallenge(`${MCP}/mcp`, undefined, undefined)).rejects.toMatchObject({ code: 'state_mismatch' });
    expect(tokenCalls).toBe(0);
    // The other flow is untouched and still completes, for its own resource.
    expect(await client.completeAuthorization(otherCallback)).toMatchObject({ resource: `${OTHER}/mcp` });
  });

  it('C-25 tokens of another resource or issuer are never put in a request to this server', async () => {
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [AS] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
    });
    const client = createOAuthClient({ oauthFetch: world.fetch, redirectUri: 'http://127.0.0.1:8765/callback', preRegistered: [{ clientId: 'app', issuer: AS }] });
    const ctx = await client.context(`${MCP}/mcp`);
    const request = { method: 'POST', url: new URL(`${MCP}/mcp`) };
    const tokens = { accessToken: 'at', tokenType: 'Bearer' as const, issuer: AS, clientId: 'app', resource: `${MCP}/mcp` };
    expect(await client.authorizationHeaders(ctx, tokens, request)).toEqual({ authorization: 'Bearer at' });
    expect(await client.authorizationHeaders(ctx, { ...tokens, resource: 'https://other.example.com/mcp' }, request)).toEqual({});
    expect(await client.authorizationHeaders(ctx, { ...tokens, issuer: 'https://other-as.example.com' }, request)).toEqual({});
  });

  it('RFC 6749 §A.12 an issued access token an Authorization header cannot carry is refused at the token response, never quoted', async () => {
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [AS] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
      [`${AS}/token`]: () => tokenResponse('SECRET-AT\r\nx'),
    });
    const client = createOAuthClient({
      oauthFetch: world.fetch,
      redirectUri: 'http://127.0.0.1:8765/callback',
      preRegistered: [{ clientId: 'app', issuer: AS }],
      authorizationHandler: async (url) => `http://127.0.0.1:8765/callback?code=c&state=${url.searchParams.get('state')}`,
    });
    const error = await client.handleChallenge(`${MCP}/mcp`, undefined, undefined).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'token_request_failed' });
    expect(inspect(error, { depth: 10 })).not.toContain('SECRET');
    expect(await client.tokens(`${MCP}/mcp`)).toBeUndefined();
  });

  it('C-38 signOut in a fresh process (a CLI logout) deletes the stored tokens', async () => {
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [AS] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
      [`${AS}/token`]: () => tokenResponse('at-1', { expires_in: 3600 }),
    });
    const store = createMemoryStore();
    const options = {
      oauthFetch: world.fetch,
      store,
      redirectUri: 'http://127.0.0.1:8765/callback',
      preRegistered: [{ clientId: 'app', issuer: AS }],
      authorizationHandler: async (url: URL) => `http://127.0.0.1:8765/callback?code=c&state=${url.searchParams.get('state')}`,
    };
    await createOAuthClient(options).handleChallenge(`${MCP}/mcp`, undefined, undefined);
    const later = createOAuthClient(options);
    await later.signOut(`${MCP}/mcp`);
    const fresh = createOAuthClient(options);
    await fresh.context(`${MCP}/mcp`);
    expect(await fresh.tokens(`${MCP}/mcp`)).toBeUndefined();
  });

  it('refuses a callback that is not an absolute URL with invalid_url', async () => {
    const client = createOAuthClient({ redirectUri: 'http://127.0.0.1:8765/callback' });
    await expect(client.completeAuthorization('code=c&state=s')).rejects.toMatchObject({ name: 'McpOAuthError', code: 'invalid_url' });
  });
});
