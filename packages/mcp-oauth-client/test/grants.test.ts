import { describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader, generateKeyPair } from 'jose';
import { enterpriseManagedAuthorization } from '../src/enterprise-managed-authorization.js';
import { createHeadlessAuthorizationHandler } from '../src/headless-authorization.js';
import { createOAuthClient } from '../src/oauth-client.js';
import { McpOAuthError } from '../src/errors.js';
import { withOAuth } from '../src/with-oauth.js';
import { asMetadata, stubWorld, tokenResponse, type EdgeRequest, type Route } from './helpers/stub-world.js';

// Everything below runs the real orchestrator; only the network edge (fetch) is a stub.
const MCP = 'https://mcp.example.com';
const AS = 'https://as.example.com';
const prm = (issuer = AS, extra: Record<string, unknown> = {}) => () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [issuer], ...extra });
const bearerOnly = (valid: (token: string) => boolean) => (r: EdgeRequest) => {
  const auth = r.headers.get('authorization') ?? '';
  return auth.startsWith('Bearer ') && valid(auth.slice(7))
    ? Response.json({ ok: true })
    : new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer resource_metadata="${MCP}/.well-known/oauth-protected-resource/mcp"` } });
};

describe('enterprise-managed authorization (X-07…X-10) and workload identity (X-13)', () => {
  it('X-07 X-10 exchanges the IdP ID token for an ID-JAG, then presents it with the jwt-bearer grant', async () => {
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: prm(),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS, { token_endpoint_auth_methods_supported: ['client_secret_basic'] })),
      'https://idp.example.com/token': () => Response.json({ access_token: 'the-id-jag', issued_token_type: 'urn:ietf:params:oauth:token-type:id-jag', token_type: 'N_A' }),
      [`${AS}/token`]: (r) => (r.form.get('assertion') === 'the-id-jag' ? tokenResponse('at-ema') : Response.json({ error: 'invalid_grant' }, { status: 400 })),
      [`${MCP}/mcp`]: bearerOnly((t) => t === 'at-ema'),
    });
    const client = createOAuthClient({
      oauthFetch: world.fetch,
      preRegistered: [{ clientId: 'mcp-client', clientSecret: 'mcp-secret', issuer: AS }],
      grant: enterpriseManagedAuthorization({ idpTokenEndpoint: 'https://idp.example.com/token', idpClient: { clientId: 'idp-client' }, subjectToken: () => 'the-id-token' }),
    });
    expect((await withOAuth(world.fetch, client)(`${MCP}/mcp`, { method: 'POST', body: '{}' })).status).toBe(200);
    const [exchange] = world.to('https://idp.example.com/token');
    expect(Object.fromEntries(exchange!.form)).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
      subject_token: 'the-id-token',
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      audience: AS,
      resource: `${MCP}/mcp`,
      client_id: 'idp-client',
    });
    const [grant] = world.to(`${AS}/token`);
    expect(grant!.form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(grant!.form.get('resource')).toBe(`${MCP}/mcp`);
    expect(grant!.headers.get('authorization')).toMatch(/^Basic /);
    expect(world.to(`${AS}/register`)).toHaveLength(0);
  });

  it('X-13 conf:auth/wif-jwt-bearer presents the platform token with the jwt-bearer grant, no registration', async () => {
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: prm(),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
      [`${AS}/token`]: (r) => (r.form.get('assertion') === 'k8s-sa-token' ? tokenResponse('at-wif') : Response.json({ error: 'invalid_grant' }, { status: 400 })),
      [`${MCP}/mcp`]: bearerOnly((t) => t === 'at-wif'),
    });
    const client = createOAuthClient({ oauthFetch: world.fetch, preRegistered: [{ clientId: 'workload' }], grant: { type: 'jwt_bearer', assertion: async () => 'k8s-sa-token' } });
    expect((await withOAuth(world.fetch, client)(`${MCP}/mcp`)).status).toBe(200);
    expect(world.to(`${AS}/token`)[0]!.form.get('client_id')).toBe('workload');
  });
});

describe('token endpoint client authentication (C-42)', () => {
  it.each([
    ['conf:auth/token-endpoint-auth-basic', ['client_secret_basic'], 'basic'],
    ['conf:auth/token-endpoint-auth-post', ['client_secret_post'], 'post'],
    ['conf:auth/token-endpoint-auth-none', ['none'], 'none'],
  ] as const)('C-42 %s', async (_title, methods, expected) => {
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: prm(),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS, { token_endpoint_auth_methods_supported: methods })),
      [`${AS}/register`]: (r) =>
        Response.json(
          { client_id: 'dyn', ...(expected !== 'none' && { client_secret: 'dyn-secret' }), token_endpoint_auth_method: (JSON.parse(r.body) as { token_endpoint_auth_method: string }).token_endpoint_auth_method },
          { status: 201 },
        ),
      [`${AS}/authorize`]: (r) => new Response(null, { status: 302, headers: { location: `http://127.0.0.1:9/cb?code=c1&state=${r.url.searchParams.get('state')}` } }),
      [`${AS}/token`]: () => tokenResponse('at-1'),
      [`${MCP}/mcp`]: bearerOnly((t) => t === 'at-1'),
    });
    const client = createOAuthClient({ oauthFetch: world.fetch, redirectUri: 'http://127.0.0.1:9/cb', authorizationHandler: createHeadlessAuthorizationHandler() });
    expect((await withOAuth(world.fetch, client)(`${MCP}/mcp`)).status).toBe(200);
    const [token] = world.to(`${AS}/token`);
    expect(token!.form.get('resource')).toBe(`${MCP}/mcp`);
    expect(token!.form.get('code_verifier')).toBeTruthy();
    if (expected === 'basic') {
      // Byte for byte: `-` is not percent-encoded (some servers compare without form-decoding).
      expect(token!.headers.get('authorization')).toBe(`Basic ${Buffer.from('dyn:dyn-secret').toString('base64')}`);
      expect(token!.form.get('client_secret')).toBeNull();
    }
    if (expected === 'post') expect(token!.form.get('client_secret')).toBe('dyn-secret');
    if (expected === 'none') {
      expect(token!.headers.get('authorization')).toBeNull();
      expect(token!.form.get('client_id')).toBe('dyn');
    }
  });
});

describe('authorization server migration (C-18)', () => {
  it('C-18 conf:auth/authorization-server-migration re-discovers on 401 and registers with the new AS; old credentials never reach it', async () => {
    const AS2 = 'https://as2.example.com';
    let current = AS;
    const authorize = (r: EdgeRequest) => new Response(null, { status: 302, headers: { location: `http://127.0.0.1:9/cb?code=c&state=${r.url.searchParams.get('state')}` } });
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => prm(current)(),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
      [`${AS2}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS2)),
      [`${AS}/register`]: () => Response.json({ client_id: 'as1-client' }, { status: 201 }),
      [`${AS2}/register`]: () => Response.json({ client_id: 'as2-client' }, { status: 201 }),
      [`${AS}/authorize`]: authorize,
      [`${AS2}/authorize`]: authorize,
      [`${AS}/token`]: () => tokenResponse('at-as1'),
      [`${AS2}/token`]: () => tokenResponse('at-as2'),
      [`${MCP}/mcp`]: bearerOnly((t) => t === (current === AS ? 'at-as1' : 'at-as2')),
    });
    const client = createOAuthClient({ oauthFetch: world.fetch, redirectUri: 'http://127.0.0.1:9/cb', authorizationHandler: createHeadlessAuthorizationHandler() });
    const fetch = withOAuth(world.fetch, client);
    expect((await fetch(`${MCP}/mcp`)).status).toBe(200);
    current = AS2;
    expect((await fetch(`${MCP}/mcp`)).status).toBe(200);
    expect(world.to(`${AS2}/register`)).toHaveLength(1);
    const atAs2 = [...world.to(`${AS2}/authorize`).map((r) => r.url.searchParams.get('client_id')), ...world.to(`${AS2}/token`).map((r) => r.form.get('client_id'))];
    expect(atAs2).not.toContain('as1-client');
  });
});

describe('DPoP (RFC 9449, X-12)', () => {
  it('conf:auth/dpop conf:auth/dpop-nonce proofs at the token endpoint and the resource, nonce retry at both', async () => {
    const keyPair = await generateKeyPair('ES256');
    let asNonceAsked = false;
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: prm(),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS, { dpop_signing_alg_values_supported: ['ES256'] })),
      [`${AS}/token`]: (r) => {
        const proof = r.headers.get('dpop');
        if (!proof) return Response.json({ error: 'invalid_dpop_proof' }, { status: 400 });
        if (!asNonceAsked) {
          asNonceAsked = true;
          return Response.json({ error: 'use_dpop_nonce' }, { status: 400, headers: { 'dpop-nonce': 'as-nonce' } });
        }
        expect(decodeJwt(proof).nonce).toBe('as-nonce');
        return Response.json({ access_token: 'at-dpop', token_type: 'DPoP', expires_in: 3600 });
      },
      [`${MCP}/mcp`]: (r) => {
        const auth = r.headers.get('authorization') ?? '';
        const proof = r.headers.get('dpop');
        if (!auth.startsWith('DPoP ') || !proof) return new Response(null, { status: 401, headers: { 'www-authenticate': `DPoP algs="ES256", resource_metadata="${MCP}/.well-known/oauth-protected-resource/mcp"` } });
        const claims = decodeJwt(proof);
        if (claims['nonce'] !== 'rs-nonce') return new Response(null, { status: 401, headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'rs-nonce' } });
        expect(decodeProtectedHeader(proof).typ).toBe('dpop+jwt');
        expect(claims).toMatchObject({ htm: 'POST', htu: `${MCP}/mcp` });
        expect(typeof claims['ath']).toBe('string');
        return Response.json({ ok: true });
      },
    });
    const client = createOAuthClient({ oauthFetch: world.fetch, preRegistered: [{ clientId: 'machine', clientSecret: 's', issuer: AS }], grant: { type: 'client_credentials' }, dpopKeyPair: keyPair });
    const response = await withOAuth(world.fetch, client)(`${MCP}/mcp?x=1`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(200);
    const jtis = world.to(`${MCP}/mcp`).map((r) => r.headers.get('dpop')).filter(Boolean).map((p) => decodeJwt(p!).jti);
    expect(new Set(jtis).size).toBe(jtis.length);
  });
});

describe('scope retry limit through withOAuth', () => {
  it('C-24 conf:auth/scope-retry-limit stops after maxStepUps and reports step_up_limit', async () => {
    let issued = 0;
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: prm(AS, { scopes_supported: ['read'] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
      [`${AS}/register`]: () => Response.json({ client_id: 'dyn' }, { status: 201 }),
      [`${AS}/authorize`]: (r) => new Response(null, { status: 302, headers: { location: `http://127.0.0.1:9/cb?code=c&state=${r.url.searchParams.get('state')}` } }),
      [`${AS}/token`]: () => tokenResponse(`at-${++issued}`, { scope: 'read' }),
      [`${MCP}/mcp`]: (r) =>
        r.headers.get('authorization')
          ? new Response(null, { status: 403, headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="admin"' } })
          : new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer resource_metadata="${MCP}/.well-known/oauth-protected-resource/mcp"` } }),
    });
    const client = createOAuthClient({ oauthFetch: world.fetch, redirectUri: 'http://127.0.0.1:9/cb', authorizationHandler: createHeadlessAuthorizationHandler(), maxStepUps: 3 });
    await expect(withOAuth(world.fetch, client)(`${MCP}/mcp`, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}' })).rejects.toMatchObject({ code: 'step_up_limit' });
    expect(world.to(`${AS}/authorize`)).toHaveLength(4);
    // C-22: every step-up asks for what was granted plus what is challenged.
    expect(world.to(`${AS}/authorize`).slice(1).map((r) => r.url.searchParams.get('scope'))).toEqual(['read admin', 'read admin', 'read admin']);
  });
});

describe('malformed challenges', () => {
  it('C-02 C-03 a malformed WWW-Authenticate never crashes: the client falls back to well-known PRM discovery', async () => {
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: prm(),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
      [`${AS}/token`]: () => tokenResponse('at-m'),
      [`${MCP}/mcp`]: (r) =>
        r.headers.get('authorization') === 'Bearer at-m' ? Response.json({ ok: true }) : new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer realm="unterminated' } }),
    });
    const client = createOAuthClient({ oauthFetch: world.fetch, preRegistered: [{ clientId: 'm', clientSecret: 's', issuer: AS }], grant: { type: 'client_credentials' } });
    expect((await withOAuth(world.fetch, client)(`${MCP}/mcp`)).status).toBe(200);
  });
});

describe('client_secret_basic encoding', () => {
  it.each([
    ['pre-registered-client', 'pre-registered-secret'],
    ['a.b_c~d', 's:e c%r+é'],
  ])('C-42 %s round-trips through form-decoding', async (clientId, secret) => {
    const { clientSecretBasic } = await import('../src/client-authentication.js');
    const headers = new Headers();
    await clientSecretBasic(secret)({ issuer: AS }, { client_id: clientId }, new URLSearchParams(), headers);
    const decoded = Buffer.from(headers.get('authorization')!.slice(6), 'base64').toString('utf8');
    const at = decoded.indexOf(':');
    const formDecode = (v: string) => decodeURIComponent(v.replace(/\+/g, ' '));
    expect([formDecode(decoded.slice(0, at)), formDecode(decoded.slice(at + 1))]).toEqual([clientId, secret]);
    if (clientId === 'pre-registered-client') expect(decoded).toBe('pre-registered-client:pre-registered-secret');
  });
});

describe('DPoP only where advertised', () => {
  it('X-12 with a key pair but an AS without dpop_signing_alg_values_supported, tokens stay Bearer and no proof is sent', async () => {
    const keyPair = await generateKeyPair('ES256');
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: prm(),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
      [`${AS}/token`]: () => tokenResponse('at-b'),
      [`${MCP}/mcp`]: bearerOnly((t) => t === 'at-b'),
    });
    const client = createOAuthClient({ oauthFetch: world.fetch, preRegistered: [{ clientId: 'm', clientSecret: 's', issuer: AS }], grant: { type: 'client_credentials' }, dpopKeyPair: keyPair });
    expect((await withOAuth(world.fetch, client)(`${MCP}/mcp`)).status).toBe(200);
    expect(world.requests.some((r) => r.headers.has('dpop'))).toBe(false);
  });

  it.each([
    ['a Bearer-only challenge and metadata silent on DPoP: Bearer', {}, false],
    ['metadata with dpop_signing_alg_values_supported (RFC 9728 §2): DPoP', { dpop_signing_alg_values_supported: ['ES256'] }, true],
    ['metadata with dpop_bound_access_tokens_required: DPoP', { dpop_bound_access_tokens_required: true }, true],
  ])('X-12 RFC 9449 §7.1 a DPoP-capable AS, and a resource server with %s', async (_name, prmExtra, dpop) => {
    const keyPair = await generateKeyPair('ES256');
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: prm(AS, prmExtra),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json({ ...asMetadata(AS), dpop_signing_alg_values_supported: ['ES256'] }),
      [`${AS}/token`]: (r) => (r.headers.has('dpop') ? Response.json({ access_token: 'at-d', token_type: 'DPoP', expires_in: 3600 }) : tokenResponse('at-b')),
      [`${MCP}/mcp`]: (r) => {
        const auth = r.headers.get('authorization') ?? '';
        if (auth === 'Bearer at-b' || (auth === 'DPoP at-d' && r.headers.has('dpop'))) return Response.json({ ok: true });
        return new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer resource_metadata="${MCP}/.well-known/oauth-protected-resource/mcp"` } });
      },
    });
    const client = createOAuthClient({ oauthFetch: world.fetch, preRegistered: [{ clientId: 'm', clientSecret: 's', issuer: AS }], grant: { type: 'client_credentials' }, dpopKeyPair: keyPair });
    expect((await withOAuth(world.fetch, client)(`${MCP}/mcp`)).status).toBe(200);
    expect(world.to(`${AS}/token`)).toHaveLength(1);
    expect(world.to(`${AS}/token`)[0]!.headers.has('dpop')).toBe(dpop);
  });
});

describe('C-18 pre-registered confidential credentials are bound to their issuer (client_credentials)', () => {
  it('a secret or a private key without an issuer is refused at construction (invalid_options), the secret kept out of the message', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    for (const credentials of [{ clientId: 'svc', clientSecret: 'S3cr3t-for-the-real-AS' }, { clientId: 'svc', privateKey: { key: privateKey } }]) {
      const error = (() => {
        try {
          createOAuthClient({ grant: { type: 'client_credentials' }, preRegistered: [credentials] });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(McpOAuthError);
      expect(error).toMatchObject({ code: 'invalid_options', message: expect.stringContaining('issuer') });
      expect(String((error as Error).message)).not.toContain('S3cr3t');
    }
  });

  it('are never sent to the AS a hostile server names, on first use or later', async () => {
    let issuer = 'https://evil.example';
    const EVIL = 'https://evil.example';
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: () => Response.json({ resource: `${MCP}/mcp`, authorization_servers: [issuer] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS, { token_endpoint_auth_methods_supported: ['client_secret_basic'] })),
      [`${EVIL}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(EVIL, { token_endpoint_auth_methods_supported: ['client_secret_basic'] })),
      [`${AS}/token`]: () => tokenResponse('at-real'),
      [`${EVIL}/token`]: () => tokenResponse('at-evil'),
      [`${MCP}/mcp`]: bearerOnly((t) => t === 'at-real'),
    });
    const client = createOAuthClient({ oauthFetch: world.fetch, grant: { type: 'client_credentials' }, preRegistered: [{ clientId: 'svc', clientSecret: 'S3cr3t-for-the-real-AS', issuer: AS }] });
    await expect(withOAuth(world.fetch, client)(`${MCP}/mcp`)).rejects.toMatchObject({ code: 'client_issuer_mismatch' });
    issuer = AS;
    expect((await withOAuth(world.fetch, client)(`${MCP}/mcp`)).status).toBe(200);
    issuer = EVIL;
    await expect(client.context(`${MCP}/mcp`, undefined, { refresh: true })).rejects.toMatchObject({ code: 'client_issuer_mismatch' });
    expect(world.to(`${EVIL}/token`)).toHaveLength(0);
  });
});

describe('C-24 C-52 remembered step-up failures', () => {
  const TOOL_CALL = { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}' };
  const unauthorized = () => new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer resource_metadata="${MCP}/.well-known/oauth-protected-resource/mcp"` } });
  const insufficient = (scope: string) => new Response(null, { status: 403, headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"` } });

  /** An AS whose every authorization succeeds at once (the user always clicks "Allow"), and an MCP endpoint. */
  function setUp(mcp: Route) {
    let clock = 1_000_000;
    let issued = 0;
    const world = stubWorld({
      [`${MCP}/.well-known/oauth-protected-resource/mcp`]: prm(AS, { scopes_supported: ['read'] }),
      [`${AS}/.well-known/oauth-authorization-server`]: () => Response.json(asMetadata(AS)),
      [`${AS}/register`]: () => Response.json({ client_id: 'dyn' }, { status: 201 }),
      [`${AS}/authorize`]: (r) => new Response(null, { status: 302, headers: { location: `http://127.0.0.1:9/cb?code=c&state=${r.url.searchParams.get('state')}` } }),
      [`${AS}/token`]: () => tokenResponse(`at-${++issued}`, { scope: 'read', expires_in: 36_000 }),
      [`${MCP}/mcp`]: mcp,
    });
    const client = createOAuthClient({ oauthFetch: world.fetch, now: () => clock, redirectUri: 'http://127.0.0.1:9/cb', authorizationHandler: createHeadlessAuthorizationHandler(), maxStepUps: 2 });
    const authed = withOAuth(world.fetch, client);
    return {
      client,
      call: (init: RequestInit = TOOL_CALL) => authed(`${MCP}/mcp`, init),
      /** The same call through a wrapper made for it alone, as an SDK transport per reconnection is. */
      callThroughNewWrapper: (init: RequestInit = TOOL_CALL) => withOAuth(world.fetch, client)(`${MCP}/mcp`, init),
      prompts: () => world.to(`${AS}/authorize`).length,
      wait: (ms: number) => void (clock += ms),
    };
  }

  it('a new request for the same operation and scopes fails at once with step_up_limit, until the failure expires', async () => {
    const { call, prompts, wait } = setUp((r) => (r.headers.get('authorization') ? insufficient('admin') : unauthorized()));
    await expect(call()).rejects.toMatchObject({ code: 'step_up_limit' });
    expect(prompts()).toBe(3);
    // Again, twice: no new authorization prompt, an immediate step_up_limit.
    await expect(call()).rejects.toMatchObject({ code: 'step_up_limit' });
    await expect(call()).rejects.toMatchObject({ code: 'step_up_limit' });
    expect(prompts()).toBe(3);
    // After five minutes the step-up is tried again (and capped again).
    wait(5 * 60_000 + 1);
    await expect(call()).rejects.toMatchObject({ code: 'step_up_limit' });
    expect(prompts()).toBe(5);
  });

  it('C-24 C-52 a server that names another scope on each 403 gets no new prompt once the operation is exhausted', async () => {
    let asked = 0;
    const { call, prompts } = setUp((r) => (r.headers.get('authorization') ? insufficient(`admin-${++asked}`) : unauthorized()));
    await expect(call()).rejects.toMatchObject({ code: 'step_up_limit' });
    const before = prompts();
    await expect(call()).rejects.toMatchObject({ code: 'step_up_limit' });
    expect(prompts()).toBe(before);
  });

  it('C-24 a server that refuses every new token gets no new prompt on the next requests, until the failure expires', async () => {
    const { call, prompts, wait } = setUp(unauthorized);
    await expect(call({})).rejects.toMatchObject({ code: 'retry_limit' });
    expect(prompts()).toBe(2);
    await expect(call({})).rejects.toMatchObject({ code: 'retry_limit' });
    await expect(call({})).rejects.toMatchObject({ code: 'retry_limit' });
    expect(prompts()).toBe(2);
    wait(5 * 60_000 + 1);
    await expect(call({})).rejects.toMatchObject({ code: 'retry_limit' });
    expect(prompts()).toBe(4);
  });

  it('C-24 giving up, the error says what the server said last, as printable text cut short', async () => {
    const description = `The access token failed the aud check \u00e9 ${'x'.repeat(300)}`;
    const { call } = setUp(() =>
      new Response(null, {
        status: 401,
        headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${description}", resource_metadata="${MCP}/.well-known/oauth-protected-resource/mcp"` },
      }),
    );
    const error = (await call({}).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'retry_limit' });
    expect(error.message).toContain('; the server said error=invalid_token "The access token failed the aud check ? xxx');
    expect(error.message.length).toBeLessThan(350);
  });

  it('C-24 C-52 the memory belongs to the client: a wrapper made per request prompts no more than a shared one', async () => {
    const { callThroughNewWrapper, prompts } = setUp((r) => (r.headers.get('authorization') ? insufficient('admin') : unauthorized()));
    await expect(callThroughNewWrapper()).rejects.toMatchObject({ code: 'step_up_limit' });
    expect(prompts()).toBe(3);
    await expect(callThroughNewWrapper()).rejects.toMatchObject({ code: 'step_up_limit' });
    expect(prompts()).toBe(3);
  });

  it('C-24 a server that refuses every new token gets no new prompt through a wrapper made per request either', async () => {
    const { callThroughNewWrapper, prompts } = setUp(unauthorized);
    await expect(callThroughNewWrapper({})).rejects.toMatchObject({ code: 'retry_limit' });
    await expect(callThroughNewWrapper({})).rejects.toMatchObject({ code: 'retry_limit' });
    expect(prompts()).toBe(2);
  });

  it('C-24 that memory ends with a success, or when the request carries other tokens (a sign-out, a new sign-in)', async () => {
    let accepted = (_token: string) => false;
    const { client, call, prompts } = setUp((r) => (accepted(r.headers.get('authorization') ?? '') ? Response.json({ ok: true }) : unauthorized()));
    await expect(call({})).rejects.toMatchObject({ code: 'retry_limit' });
    expect(prompts()).toBe(2);
    // The user signs out to sign in with another account: prompted at once.
    await client.signOut(`${MCP}/mcp`);
    await expect(call({})).rejects.toMatchObject({ code: 'retry_limit' });
    expect(prompts()).toBe(4);
    // The server recovers: the last token works, and when it is later refused, a new one is sought.
    accepted = () => true;
    expect((await call({})).status).toBe(200);
    accepted = (token) => token === 'Bearer at-5';
    expect((await call({})).status).toBe(200);
    expect(prompts()).toBe(5);
  });
});
