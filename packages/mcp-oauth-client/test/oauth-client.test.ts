import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { generateKeyPair } from 'jose';
import { discover } from '../src/discovery.js';
import { createOAuthClient } from '../src/oauth-client.js';
import { createMemoryStore, type TokenStore } from '../src/token-store.js';
import { asMetadata, stubWorld, tokenResponse } from './helpers/stub-world.js';

// The real orchestrator; only the network edge (fetch) and the browser (authorization handler) are stubs.
const MCP = 'https://mcp.example.com';
const AS = 'https://as.example.com';
const REDIRECT_URI = 'http://127.0.0.1:8765/callback';

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

  describe('C-38 signOut without the network (a CLI logout while the server is down or has moved)', () => {
    /** A server whose PRM names `issuer()`; `offline` makes every request fail before it is sent. */
    function setUp() {
      const state = { offline: false, issuer: AS, attemptsOffline: 0 };
      const world = stubWorld({
        [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [state.issuer] }),
        [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
        [`${AS}/token`]: () => tokenResponse('at-old-as', { expires_in: 3600 }),
        ['https://as2.example.com/.well-known/oauth-authorization-server']: () => Response.json(asMetadata('https://as2.example.com')),
        ['https://as2.example.com/token']: () => tokenResponse('at-new-as', { expires_in: 3600 }),
      });
      const offlineFetch: typeof world.fetch = (input, init) =>
        state.offline && ++state.attemptsOffline ? Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })) : world.fetch(input, init);
      const store = createMemoryStore();
      const options = {
        oauthFetch: offlineFetch,
        store,
        redirectUri: 'http://127.0.0.1:8765/callback',
        preRegistered: [{ clientId: 'app', issuer: AS }, { clientId: 'app2', issuer: 'https://as2.example.com' }],
        authorizationHandler: async (url: URL) => `http://127.0.0.1:8765/callback?code=c&state=${url.searchParams.get('state')}`,
      };
      /** The access tokens a fresh, online process finds for the server through each AS. */
      const storedThrough = async (issuer: string) => {
        const [offline, current] = [state.offline, state.issuer];
        Object.assign(state, { offline: false, issuer });
        const fresh = createOAuthClient(options);
        await fresh.context(`${MCP}/mcp`);
        const tokens = await fresh.tokens(`${MCP}/mcp`);
        Object.assign(state, { offline, issuer: current });
        return tokens?.accessToken;
      };
      return { state, options, store, storedThrough };
    }

    it('deletes the stored tokens without a request', async () => {
      const { state, options, storedThrough } = setUp();
      await createOAuthClient(options).handleChallenge(`${MCP}/mcp`, undefined, undefined);
      expect(await storedThrough(AS)).toBe('at-old-as');
      state.offline = true;
      await createOAuthClient(options).signOut(`${MCP}/mcp`);
      expect(state.attemptsOffline).toBe(0);
      expect(await storedThrough(AS)).toBeUndefined();
    });

    it('deletes the tokens of every AS the server named since, not only the current one', async () => {
      const { state, options, storedThrough } = setUp();
      await createOAuthClient(options).handleChallenge(`${MCP}/mcp`, undefined, undefined);
      state.issuer = 'https://as2.example.com';
      await createOAuthClient(options).handleChallenge(`${MCP}/mcp`, undefined, undefined);
      expect([await storedThrough(AS), await storedThrough('https://as2.example.com')]).toEqual(['at-old-as', 'at-new-as']);
      await createOAuthClient(options).signOut(`${MCP}/mcp`);
      expect([await storedThrough(AS), await storedThrough('https://as2.example.com')]).toEqual([undefined, undefined]);
    });

    it('tokens whose filing is unknown (saved by an earlier version) are found by discovery: offline, signOut fails with fetch_failed', async () => {
      const { state, options, store, storedThrough } = setUp();
      await createOAuthClient(options).handleChallenge(`${MCP}/mcp`, undefined, undefined);
      // What an earlier version left: the tokens without the record of where they were filed.
      await store.delete(`filed ${JSON.stringify(['default', `${MCP}/mcp`])}`);
      state.offline = true;
      await expect(createOAuthClient(options).signOut(`${MCP}/mcp`)).rejects.toMatchObject({ name: 'McpOAuthError', code: 'fetch_failed', cause: { message: 'fetch failed' } });
      expect(state.attemptsOffline).toBeGreaterThan(0);
      expect(await storedThrough(AS)).toBe('at-old-as');
      state.offline = false;
      await createOAuthClient(options).signOut(`${MCP}/mcp`);
      expect(await storedThrough(AS)).toBeUndefined();
    });
  });

  it('refuses a callback that is not an absolute URL with invalid_url', async () => {
    const client = createOAuthClient({ redirectUri: 'http://127.0.0.1:8765/callback' });
    await expect(client.completeAuthorization('code=c&state=s')).rejects.toMatchObject({ name: 'McpOAuthError', code: 'invalid_url' });
  });
});

describe('createOAuthClient: numeric options are checked at construction', () => {
  it.each([
    ['maxStepUps', -1],
    ['maxStepUps', 1.5],
    ['maxUnauthorizedRetries', Number.POSITIVE_INFINITY],
    ['refreshSkewMs', Number.NaN],
    ['refreshSkewMs', -1],
    ['pendingTtlMs', -5],
    ['pendingTtlMs', 0],
  ])('C-24 %s: %p is invalid_options naming the option', (option, value) => {
    expect(() => createOAuthClient({ redirectUri: 'http://127.0.0.1:8765/callback', [option]: value })).toThrow(
      expect.objectContaining({ code: 'invalid_options', message: expect.stringContaining(option) }),
    );
  });

  it('0 retries and 0 skew are allowed', () => {
    expect(() => createOAuthClient({ redirectUri: 'http://127.0.0.1:8765/callback', maxStepUps: 0, maxUnauthorizedRetries: 0, refreshSkewMs: 0 })).not.toThrow();
  });
});

describe('DPoP decided on a context built without a challenge', () => {
  // README "Programmatic, multi-user hosts": startAuthorization(serverUrl), later completeAuthorization.
  // The resource server requires DPoP and says so only in its challenges (RFC 9449 §7.1); its metadata is
  // silent on DPoP (the dpop_* fields of RFC 9728 §2 are optional): the AS's word decides.
  it('X-12 startAuthorization without a challenge, against a DPoP-only server: the code is exchanged with a DPoP proof', async () => {
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [AS] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS, { dpop_signing_alg_values_supported: ['ES256'] })),
      [`${AS}/token`]: (r) => (r.headers.has('dpop') ? Response.json({ access_token: 'at-d', token_type: 'DPoP', expires_in: 3600 }) : tokenResponse('at-b')),
      [`${MCP}/mcp`]: () => new Response(null, { status: 401, headers: { 'www-authenticate': 'DPoP algs="ES256"' } }),
    });
    const client = createOAuthClient({
      oauthFetch: world.fetch,
      redirectUri: REDIRECT_URI,
      preRegistered: [{ clientId: 'app', issuer: AS }],
      dpopKeyPair: await generateKeyPair('ES256'),
    });
    const { state } = await client.startAuthorization(`${MCP}/mcp`);
    const tokens = await client.completeAuthorization(`${REDIRECT_URI}?code=c&state=${state}&iss=${encodeURIComponent(AS)}`);
    expect(world.to(`${AS}/token`)[0]!.headers.has('dpop')).toBe(true);
    expect(tokens.tokenType).toBe('DPoP');
  });
});

describe('a caller\'s oauthFetch failing at the token endpoint', () => {
  // Fetch libraries hang the failed request (its body: secrets, codes, verifiers) on their errors: what
  // reaches the caller as fetch_failed keeps only names, messages and codes.
  it('S-22 a code exchange whose fetch fails keeps the client secret and PKCE verifier out of the error', async () => {
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [AS] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS, { token_endpoint_auth_methods_supported: ['client_secret_post'] })),
    });
    // What fetch wrappers such as ofetch do: the failed request's options (its body too) ride on the error.
    const oauthFetch: typeof world.fetch = async (input, init) => {
      if (String(input).startsWith(`${AS}/token`)) throw Object.assign(new TypeError('fetch failed'), { options: { ...init, body: String(init?.body) } });
      return world.fetch(input, init);
    };
    const client = createOAuthClient({
      oauthFetch,
      redirectUri: REDIRECT_URI,
      preRegistered: [{ clientId: 'app', clientSecret: 'SECRET-CLIENT-SECRET', issuer: AS, tokenEndpointAuthMethod: 'client_secret_post' }],
      authorizationHandler: async (url) => `${REDIRECT_URI}?code=SECRET-CODE&state=${url.searchParams.get('state')}`,
    });
    const error = await client.handleChallenge(`${MCP}/mcp`, undefined, undefined).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'McpOAuthError' });
    expect(inspect(error, { depth: 10 })).not.toContain('SECRET');
  });
});

describe('a malformed resource_metadata and the 2025-03-26 fallbacks', () => {
  // A resource_metadata that is not an absolute http(s) URL is ignored, like any malformed challenge
  // (C-03): it does not rule out the legacy fallback of a server without PRM.
  it('C-03 L-01 a relative resource_metadata is ignored: a server without PRM still gets its legacy AS metadata', async () => {
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(MCP)),
    });
    const result = await discover(new URL(`${MCP}/mcp`), { fetch: world.fetch, resourceMetadata: '/.well-known/oauth-protected-resource' });
    expect(result.authorizationServer.issuer).toBe(MCP);
  });
});

describe('signOut and a store shared by two clients of one account', () => {
  /** Two machine clients of one account sharing `store`; the AS names each token after its client. */
  function twoClients(store: TokenStore) {
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [AS] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS, { token_endpoint_auth_methods_supported: ['client_secret_basic'] })),
      [`${AS}/token`]: (r) => tokenResponse(`at-for-${Buffer.from(r.headers.get('authorization')!.slice(6), 'base64').toString().split(':')[0]}`),
    });
    return (clientId: string) => createOAuthClient({ oauthFetch: world.fetch, store, grant: { type: 'client_credentials' }, preRegistered: [{ clientId, clientSecret: 's', issuer: AS }] });
  }

  // The filing record is keyed by (account, serverUrl): every client of the account writing to the
  // store shares it, and signOut deletes only the tokens of its own client ids.
  it('C-38 signOut by one client leaves another client\'s tokens for the same server in the shared store', async () => {
    const machine = twoClients(createMemoryStore());
    const [reporting, backup] = [machine('reporting-job'), machine('backup-job')];
    await reporting.handleChallenge(`${MCP}/mcp`, undefined, undefined);
    await backup.handleChallenge(`${MCP}/mcp`, undefined, undefined);
    await reporting.signOut(`${MCP}/mcp`);
    expect((await backup.tokens(`${MCP}/mcp`))?.accessToken).toBe('at-for-backup-job');
  });

  // Two sign-ins at once (two processes on one encrypted file store, two clients of one store) each
  // read the record, add their key and write it back: each reads it again and adds its key once more
  // if the other's write lost it, so signOut finds every key.
  it('C-38 after two concurrent sign-ins, signOut still deletes the signing-out client\'s own tokens', async () => {
    // A store with the latency of a file or a keychain: every call takes a few milliseconds.
    const memory = createMemoryStore();
    const slow = <T>(work: () => Promise<T>) => new Promise<T>((resolve, reject) => setTimeout(() => work().then(resolve, reject), 5));
    const machine = twoClients({ get: (k) => slow(() => memory.get(k)), set: (k, v) => slow(() => memory.set(k, v)), delete: (k) => slow(() => memory.delete(k)) });
    await Promise.all([machine('reporting-job').handleChallenge(`${MCP}/mcp`, undefined, undefined), machine('backup-job').handleChallenge(`${MCP}/mcp`, undefined, undefined)]);
    await machine('reporting-job').signOut(`${MCP}/mcp`);
    const fresh = machine('reporting-job');
    await fresh.context(`${MCP}/mcp`);
    expect(await fresh.tokens(`${MCP}/mcp`)).toBeUndefined();
  });
});

describe('what a giving-up error quotes from the server', () => {
  // retry_limit and step_up_limit quote the server's error_description; README (Errors): "Messages
  // carry URLs and parameter names, never tokens, codes or secrets", also when the server echoes the token.
  it('C-24 S-22 retry_limit never quotes the access token, even when the server\'s description echoes it', async () => {
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [AS] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
      [`${AS}/token`]: () => tokenResponse('SECRET-ACCESS-TOKEN-1'),
      [`${MCP}/mcp`]: (r) => {
        const sent = r.headers.get('authorization')?.slice(7) ?? '';
        return new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="token ${sent} is not valid here"` } });
      },
    });
    const { withOAuth } = await import('../src/with-oauth.js');
    const client = createOAuthClient({ oauthFetch: world.fetch, grant: { type: 'client_credentials' }, preRegistered: [{ clientId: 'm', clientSecret: 's', issuer: AS }] });
    const error = (await withOAuth(world.fetch, client)(`${MCP}/mcp`).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'retry_limit' });
    expect(error.message).not.toContain('SECRET-ACCESS-TOKEN');
  });
});
