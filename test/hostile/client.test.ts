/**
 * Hostile servers against the MCP client (`@portcullis/mcp-oauth-client`): lying metadata, SSRF
 * through discovery URLs and redirects, forged authorization responses, a misbehaving token
 * endpoint, a server that answers 401 forever, and a refresh race.
 *
 * NETWORK RULE: nothing here leaves 127.0.0.0/8. The client's own SSRF-guarded fetch
 * (`createSafeFetch`) runs for real, with its two injection points filled in: `lookup` (DNS)
 * resolves the test's host names from a table and records every query, and `transport` is a
 * virtual internet that answers in-process and records every hop it is handed — it opens no socket
 * at all. A refusal is proven by a typed error plus the absence of the target among the hops.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import {
  createOAuthClient,
  createMemoryStore,
  createSafeFetch,
  McpOAuthError,
  readResourceChallenge,
  withOAuth,
  type FetchLike,
  type HostLookup,
  type OAuthClientOptions,
  type StoredTokens,
  type TokenStore,
} from '@portcullis/mcp-oauth-client';
import { caught, json, listen, PUBLIC_ADDRESS, virtualInternet, type VirtualHandler } from './support.js';

const MCP = 'https://mcp.example.com/mcp';
const PRM_URL = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
const AS = 'https://as.example.com';
const REDIRECT = 'http://127.0.0.1:65000/callback';
const SECRET = 'client-secret-0123456789abcdef';

/** DNS of the virtual internet: public names → a public address; attacker names → private ones. */
const DNS: Record<string, string[]> = {
  'mcp.example.com': [PUBLIC_ADDRESS],
  'as.example.com': [PUBLIC_ADDRESS],
  'other.example.com': [PUBLIC_ADDRESS],
  'metadata.attacker.test': ['169.254.169.254'],
  'intranet.attacker.test': ['10.0.0.8'],
  'router.attacker.test': ['192.168.1.1'],
  'loop.attacker.test': ['::1'],
  'mixed.attacker.test': [PUBLIC_ADDRESS, '10.1.2.3'],
  'mapped.attacker.test': ['::ffff:169.254.169.254'],
};

interface World {
  prm: Record<string, unknown>;
  asMetadata: Record<string, unknown>;
  routes: Record<string, VirtualHandler>;
  lookups: string[];
  deliveries: ReturnType<typeof virtualInternet>['deliveries'];
  fetch: FetchLike;
  /** Hops delivered to a host (by hostname). */
  deliveredTo(hostname: string): number;
}

function world(options: { timeoutMs?: number; allowInsecureLoopback?: boolean } = {}): World {
  const lookups: string[] = [];
  const lookup: HostLookup = async (hostname) => {
    lookups.push(hostname);
    return (DNS[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  const w = {
    prm: { resource: MCP, authorization_servers: [AS], scopes_supported: ['mcp:tools'] } as Record<string, unknown>,
    asMetadata: {
      issuer: AS,
      authorization_endpoint: `${AS}/authorize`,
      token_endpoint: `${AS}/token`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'none'],
    } as Record<string, unknown>,
    routes: {} as Record<string, VirtualHandler>,
  };
  w.routes[PRM_URL] = () => json(w.prm);
  w.routes[`${AS}/.well-known/oauth-authorization-server`] = () => json(w.asMetadata);
  const { transport, deliveries } = virtualInternet(w.routes);
  const fetch = createSafeFetch({ lookup, transport, timeoutMs: options.timeoutMs ?? 2000, allowInsecureLoopback: options.allowInsecureLoopback === true });
  return Object.assign(w, {
    lookups,
    deliveries,
    fetch,
    deliveredTo: (hostname: string) => deliveries.filter((d) => new URL(d.url).hostname === hostname).length,
  });
}

const machine = (w: World, extra: Partial<OAuthClientOptions> = {}) =>
  createOAuthClient({
    grant: { type: 'client_credentials' },
    preRegistered: [{ clientId: 'm2m', clientSecret: SECRET, issuer: AS }],
    oauthFetch: w.fetch,
    ...extra,
  });

const user = (w: World, extra: Partial<OAuthClientOptions> = {}) =>
  createOAuthClient({ redirectUri: REDIRECT, preRegistered: [{ clientId: 'public-app', issuer: AS, tokenEndpointAuthMethod: 'none' }], oauthFetch: w.fetch, ...extra });

async function expectCode(promise: Promise<unknown>, code: McpOAuthError['code']): Promise<McpOAuthError> {
  const error = await caught(promise);
  expect(error).toBeInstanceOf(McpOAuthError);
  expect((error as unknown as McpOAuthError).code).toBe(code);
  return error as unknown as McpOAuthError;
}

/** A token endpoint that issues `at-N` tokens and records what it was asked. */
function tokenEndpoint(w: World, answer: (form: URLSearchParams, n: number) => Response | Promise<Response> = (_f, n) => json({ access_token: `at-${n}`, token_type: 'Bearer', expires_in: 3600 })) {
  const asked: URLSearchParams[] = [];
  w.routes[`${AS}/token`] = (_req, body) => {
    const form = new URLSearchParams(body);
    asked.push(form);
    return answer(form, asked.length);
  };
  return asked;
}

/** The MCP server itself, called through withOAuth's plain fetch (in-process: no network). */
function mcpServer(handle: (authorization: string | null, n: number) => Response) {
  const state = { requests: 0 };
  const fetch: FetchLike = async (_input, init) => {
    state.requests++;
    return handle(new Headers(init?.headers).get('authorization'), state.requests);
  };
  return Object.assign(state, { fetch });
}

const BLOCKED_TARGETS = [
  'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
  'https://169.254.169.254',
  'https://10.0.0.1',
  'https://10.255.255.254:8443/x',
  'https://192.168.1.1',
  'https://172.16.0.1',
  'https://[::1]',
  'https://[::ffff:a9fe:a9fe]',
  'https://[fe80::1]',
  'https://[fd00::1]',
  'https://0xa9fea9fe', // 169.254.169.254 in hex, normalised by the URL parser
  'https://2852039166', // … and as one decimal number
  'https://0251.0376.0251.0376', // … and in octal
  'https://127.0.0.1',
  'https://localhost',
  'https://metadata.attacker.test',
  'https://intranet.attacker.test',
  'https://router.attacker.test',
  'https://loop.attacker.test',
  'https://mixed.attacker.test',
  'https://mapped.attacker.test',
  'http://other.example.com', // public, but plain http
  'https://user:pass@other.example.com',
];
const PRIVATE_HOSTS = ['169.254.169.254', '10.0.0.1', '10.255.255.254', '192.168.1.1', '172.16.0.1', '[::1]', '[::ffff:a9fe:a9fe]', '[fe80::1]', '[fd00::1]', '127.0.0.1', 'localhost', 'metadata.attacker.test', 'intranet.attacker.test', 'router.attacker.test', 'loop.attacker.test', 'mixed.attacker.test', 'mapped.attacker.test'];

function expectNothingDeliveredToPrivateHosts(w: World): void {
  for (const host of PRIVATE_HOSTS) expect(w.deliveredTo(host)).toBe(0);
  for (const d of w.deliveries) expect(d.address).toBe(PUBLIC_ADDRESS);
}

describe('C-04 C-08 metadata that lies', () => {
  for (const resource of ['https://evil.example/mcp', 'https://mcp.example.com/mcp2', 'https://mcp.example.com/mc', 'https://mcp.example.com:8443/mcp', 'http://mcp.example.com/mcp', 'https://mcp.example.com/mcp#x', 'https://mcp.example.com.evil.example/mcp', 'not a url', '']) {
    it(`C-04 PRM whose resource is another server (${JSON.stringify(resource)}) → resource_mismatch; the AS is never asked`, async () => {
      const w = world();
      w.prm = { ...w.prm, resource };
      await expectCode(machine(w).context(MCP), 'resource_mismatch');
      expect(w.deliveredTo('as.example.com')).toBe(0);
    });
  }

  it('C-04 PRM with a non-string resource or no resource → invalid_metadata', async () => {
    for (const prm of [{ authorization_servers: [AS] }, { resource: ['x'] }, [], 'x', null]) {
      const w = world();
      w.routes[PRM_URL] = () => json(prm);
      await expectCode(machine(w).context(MCP), 'invalid_metadata');
    }
  });

  for (const issuer of ['https://evil.example', `${AS}/`, 'https://AS.example.com', 'https://as.example.com:443', undefined]) {
    it(`C-08 AS metadata whose issuer differs (${JSON.stringify(issuer)}) → issuer_mismatch; no token request`, async () => {
      const w = world();
      const asked = tokenEndpoint(w);
      w.asMetadata = { ...w.asMetadata, issuer };
      await expectCode(machine(w).context(MCP), 'issuer_mismatch');
      expect(asked).toHaveLength(0);
    });
  }
});

describe('C-43 C-45 SSRF through authorization_servers and resource_metadata (never leaves: injected lookup + virtual transport)', () => {
  it('C-45 authorization_servers pointing at metadata, private, link-local, loopback or rebinding targets → ssrf_blocked, nothing delivered there', async () => {
    // (A userinfo part is not refused here: discovery builds the well-known URLs from the origin, which drops it.)
    for (const target of BLOCKED_TARGETS.filter((t) => !t.includes('@'))) {
      const w = world();
      w.prm = { ...w.prm, authorization_servers: [target] };
      await expectCode(machine(w).context(MCP), 'ssrf_blocked');
      expectNothingDeliveredToPrivateHosts(w);
    }
  });

  it('C-45 the attacker names were resolved through the injected lookup (the refusal is by resolved address, DNS pinned)', async () => {
    const w = world();
    w.prm = { ...w.prm, authorization_servers: ['https://metadata.attacker.test'] };
    await expectCode(machine(w).context(MCP), 'ssrf_blocked');
    expect(w.lookups).toContain('metadata.attacker.test');
    expect(w.deliveredTo('metadata.attacker.test')).toBe(0);
  });

  it('C-43 resource_metadata in a 401 challenge pointing at those targets → ssrf_blocked through withOAuth, nothing delivered', async () => {
    for (const target of BLOCKED_TARGETS) {
      const w = world();
      const server = mcpServer(() => new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer resource_metadata="${target}"` } }));
      const fetch = withOAuth(server.fetch, machine(w));
      await expectCode(fetch(MCP), 'ssrf_blocked');
      expectNothingDeliveredToPrivateHosts(w);
    }
  });

  it('C-43 C-46 a redirect from a public metadata URL hopping to a blocked target → ssrf_blocked; the hop is never delivered', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      for (const target of [...BLOCKED_TARGETS, 'file:///etc/passwd', 'javascript:alert(1)', 'data:application/json,{}', 'gopher://10.0.0.1:70/']) {
        const w = world();
        w.routes[PRM_URL] = () => new Response(null, { status, headers: { location: target } });
        await expectCode(machine(w).context(MCP), 'ssrf_blocked');
        expectNothingDeliveredToPrivateHosts(w);
        expect(w.deliveries).toHaveLength(1); // only the first, public hop
      }
    }
  });

  it('C-46 a redirect chain that never ends is cut off (fetch_failed), not followed forever', async () => {
    const w = world();
    w.routes[PRM_URL] = () => new Response(null, { status: 302, headers: { location: PRM_URL } });
    await expectCode(machine(w).context(MCP), 'fetch_failed');
    expect(w.deliveries.length).toBeLessThanOrEqual(6);
  });
});

describe('C-30 C-32 C-33 C-34 a forged authorization response', () => {
  async function started() {
    const w = world();
    const asked = tokenEndpoint(w, (_f, n) => json({ access_token: `at-${n}`, token_type: 'Bearer', expires_in: 3600 }));
    const client = user(w);
    const { authorizationUrl, state } = await client.startAuthorization(MCP);
    return { w, asked, client, authorizationUrl, state };
  }
  const callback = (params: Record<string, string>) => `${REDIRECT}?${new URLSearchParams(params)}`;

  it('C-30 wrong or missing state → unknown_authorization; the code is never sent to the token endpoint', async () => {
    const { asked, client, state } = await started();
    await expectCode(client.completeAuthorization(callback({ code: 'c1', state: `${state}x`, iss: AS })), 'unknown_authorization');
    await expectCode(client.completeAuthorization(callback({ code: 'c1', iss: AS })), 'unknown_authorization');
    await expectCode(client.completeAuthorization(callback({ code: 'c1', state: '', iss: AS })), 'unknown_authorization');
    expect(asked).toHaveLength(0);
  });

  it('C-32 C-33 wrong iss, missing iss (advertised), or a normalised iss → iss_mismatch; no token request; the state is then spent', async () => {
    for (const iss of ['https://evil.example', undefined, `${AS}/`, 'https://AS.example.com', 'https://as.example.com:443']) {
      const { asked, client, state } = await started();
      await expectCode(client.completeAuthorization(callback({ code: 'c1', state, ...(iss !== undefined && { iss }) })), 'iss_mismatch');
      expect(asked).toHaveLength(0);
      // One-shot: the genuine callback arriving afterwards is refused too (no replay window).
      await expectCode(client.completeAuthorization(callback({ code: 'c1', state, iss: AS })), 'unknown_authorization');
    }
  });

  it('C-34 an error response with a wrong iss is an iss_mismatch; its error and description are not surfaced', async () => {
    const { client, state } = await started();
    const error = await expectCode(
      client.completeAuthorization(callback({ error: 'access_denied', error_description: 'Call +1-555-SCAM to restore access', state, iss: 'https://evil.example' })),
      'iss_mismatch',
    );
    expect(error.message).not.toContain('555');
    expect(error.oauthError).toBeUndefined();
  });

  it('control: the genuine callback is exchanged once, with the PKCE verifier', async () => {
    const { asked, client, state } = await started();
    const tokens = await client.completeAuthorization(callback({ code: 'c1', state, iss: AS }));
    expect(tokens.accessToken).toBe('at-1');
    expect(asked).toHaveLength(1);
    expect(asked[0]!.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(asked[0]!.get('resource')).toBe(MCP);
  });
});

describe('a token endpoint that misbehaves', () => {
  it('returns other scopes than asked: the granted scope is recorded as granted (not as asked), and step-up is capped (C-24)', async () => {
    const w = world();
    const asked = tokenEndpoint(w, (_f, n) => json({ access_token: `at-${n}`, token_type: 'Bearer', expires_in: 3600, scope: 'mcp:read-only' }));
    const client = machine(w, { maxStepUps: 2 });
    const server = mcpServer(() => new Response(null, { status: 403, headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="mcp:tools"' } }));
    // First a 401 to get a token at all, then 403 insufficient_scope for ever.
    let first = true;
    const gated = withOAuth(async (input, init) => {
      if (first) {
        first = false;
        return new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer resource_metadata="${PRM_URL}", scope="mcp:tools"` } });
      }
      return server.fetch(input, init);
    }, client);
    await expectCode(gated(MCP, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' }), 'step_up_limit');
    expect(asked[0]!.get('scope')).toBe('mcp:tools');
    const stored = (await client.tokens(MCP)) as StoredTokens;
    expect(stored.scope).toBe('mcp:read-only');
    // Bounded: the first grant plus at most maxStepUps more.
    expect(asked.length).toBeLessThanOrEqual(3);
  });

  it('no expires_in: tokens are kept without an expiry and used; a 401 later gets exactly one new token, then succeeds', async () => {
    const w = world();
    const asked = tokenEndpoint(w, (_f, n) => json({ access_token: `at-${n}`, token_type: 'Bearer' }));
    const client = machine(w);
    const server = mcpServer((authorization, n) => {
      if (authorization === 'Bearer at-2') return json({ ok: true });
      if (n === 2 && authorization === 'Bearer at-1') return json({ ok: true });
      return new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
    });
    const fetch = withOAuth(server.fetch, client);
    expect((await fetch(MCP)).status).toBe(200); // 401 → at-1 → 200
    const stored = (await client.tokens(MCP))!;
    expect(stored.accessToken).toBe('at-1');
    expect(stored.expiresAt).toBeUndefined();
    expect((await fetch(MCP)).status).toBe(200); // at-1 now 401 → at-2 → 200
    expect(asked).toHaveLength(2);
  });

  // Size and time limits are enforced by the default transport, so these run against a real server on 127.0.0.1.
  async function loopbackAs(token: (req: IncomingMessage, res: ServerResponse) => void, prm?: (base: string) => string) {
    let base = '';
    const server = await listen((req, res) => {
      const path = new URL(req.url ?? '/', base).pathname;
      if (path === '/.well-known/oauth-protected-resource/mcp') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(prm ? prm(base) : JSON.stringify({ resource: `${base}/mcp`, authorization_servers: [base] }));
      } else if (path === '/.well-known/oauth-authorization-server') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: base, token_endpoint: `${base}/token` }));
      } else if (path === '/token') token(req, res);
      else res.writeHead(404).end();
    });
    base = server.url;
    const client = createOAuthClient({
      grant: { type: 'client_credentials' },
      preRegistered: [{ clientId: 'm2m', clientSecret: SECRET, issuer: base }],
      allowInsecureLoopback: true,
      oauthFetch: createSafeFetch({ allowInsecureLoopback: true, timeoutMs: 2_000 }), // discovery must fit in it on a busy CI machine
    });
    return { server, client, mcp: `${base}/mcp` };
  }

  it('a huge token response (2 MiB) → fetch_failed, nothing stored', async () => {
    const { server, client, mcp } = await loopbackAs((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'a'.repeat(2 * 1024 * 1024), token_type: 'Bearer' }));
    });
    try {
      await client.context(mcp);
      await expectCode(client.handleChallenge(mcp, undefined, undefined), 'fetch_failed');
      expect(await client.tokens(mcp)).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('a huge body without Content-Length (chunked, 2 MiB of metadata) → fetch_failed', async () => {
    const { server, client, mcp } = await loopbackAs(
      (_req, res) => res.end(),
      (base) => JSON.stringify({ resource: `${base}/mcp`, authorization_servers: [base], pad: 'x'.repeat(2 * 1024 * 1024) }),
    );
    try {
      await expectCode(client.context(mcp), 'fetch_failed');
    } finally {
      await server.close();
    }
  });

  it('a token endpoint that never answers → fetch_failed after the guarded fetch timeout (bounded), nothing stored', async () => {
    const { server, client, mcp } = await loopbackAs((req) => req.resume());
    try {
      await client.context(mcp);
      await expectCode(client.handleChallenge(mcp, undefined, undefined), 'fetch_failed');
      expect(await client.tokens(mcp)).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('an error body that carries a token-like value is reported by its OAuth code only', async () => {
    const w = world();
    tokenEndpoint(w, () => json({ error: 'invalid_client', error_description: 'bad' }, 401));
    const client = machine(w);
    await client.context(MCP);
    const error = await expectCode(client.handleChallenge(MCP, undefined, undefined), 'token_request_failed');
    expect(error.oauthError).toBe('invalid_client');
    expect(error.message).not.toContain(SECRET);
  });
});

describe('C-24 a server that answers 401 forever', () => {
  it('withOAuth gives up with retry_limit after maxUnauthorizedRetries new tokens: no loop', async () => {
    const w = world();
    const asked = tokenEndpoint(w);
    const server = mcpServer(() => new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer error="invalid_token", resource_metadata="${PRM_URL}"` } }));
    const fetch = withOAuth(server.fetch, machine(w, { maxUnauthorizedRetries: 2 }));
    const error = await expectCode(fetch(MCP), 'retry_limit');
    expect(error.status).toBe(401);
    expect(server.requests).toBe(3);
    expect(asked.length).toBeLessThanOrEqual(2);
    // A second call soon after asks for no new token (C-52: a recent failure is remembered for five
    // minutes, grants.test.ts shows it expiring): one request, then retry_limit.
    const tokensAsked = asked.length;
    await expectCode(fetch(MCP), 'retry_limit');
    expect(server.requests).toBe(4);
    expect(asked.length).toBe(tokensAsked);
  });

  it('a malformed challenge on every 401 is still bounded', async () => {
    const w = world();
    tokenEndpoint(w);
    const server = mcpServer(() => new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer realm="unterminated' } }));
    await expectCode(withOAuth(server.fetch, machine(w))(MCP), 'retry_limit');
    expect(server.requests).toBe(3);
  });
});

describe('a refresh that fails while another succeeds (two processes, one store)', () => {
  async function twoClients() {
    const w = world();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const asked = tokenEndpoint(w, async (form) => {
      if (form.get('grant_type') !== 'refresh_token') return json({ error: 'unsupported_grant_type' }, 400);
      if (asked.length === 1) {
        await gate; // the first refresh is slow
        return json({ access_token: 'at-new', refresh_token: 'rt-new', token_type: 'Bearer', expires_in: 3600 });
      }
      return json({ error: 'invalid_grant', error_description: 'refresh token already used' }, 400);
    });
    const store: TokenStore = createMemoryStore();
    const a = user(w, { store });
    const b = user(w, { store });
    const ctx = await a.context(MCP);
    await b.context(MCP);
    await store.set(ctx.tokensKey, { accessToken: 'at-old', tokenType: 'Bearer', expiresAt: Date.now() - 1000, refreshToken: 'rt-old', issuer: AS, clientId: 'public-app', resource: MCP });
    return { a, b, store, key: ctx.tokensKey, release, asked };
  }

  it('the failing refresh finishes first: the winner\'s new tokens are still stored at the end', async () => {
    const { a, b, store, key, release, asked } = await twoClients();
    const winner = a.tokens(MCP);
    while (asked.length < 1) await new Promise((r) => setImmediate(r));
    // The refused refresh means "authorize again" (undefined), never an exception that loses state.
    expect(await b.tokens(MCP)).toBeUndefined();
    release();
    expect((await winner)?.accessToken).toBe('at-new');
    expect(await store.get(key)).toMatchObject({ accessToken: 'at-new', refreshToken: 'rt-new' });
  });

  it('the winner finishes first: the loser\'s refusal does not delete the new tokens', async () => {
    const { a, b, store, key, release, asked } = await twoClients();
    const winner = a.tokens(MCP);
    while (asked.length < 1) await new Promise((r) => setImmediate(r));
    const loser = b.tokens(MCP);
    release();
    expect((await winner)?.accessToken).toBe('at-new');
    // The loser was refused (undefined: authorize again); it must not have deleted the winner's tokens.
    expect([undefined, 'at-new']).toContain((await loser)?.accessToken);
    expect(await store.get(key)).toMatchObject({ accessToken: 'at-new', refreshToken: 'rt-new' });
    expect(await b.tokens(MCP)).toMatchObject({ accessToken: 'at-new' });
  });
});

describe('challenge parsing feeds discovery only what it can use', () => {
  it('readResourceChallenge on hostile headers never yields a resource_metadata with a control character', () => {
    for (const header of ['Bearer resource_metadata="http://a\r\nb"', 'Bearer resource_metadata="x\u0000"', 'Bearer resource_metadata="a\x7fb"']) {
      expect(() => readResourceChallenge(header)).toThrow(McpOAuthError);
    }
  });
});
