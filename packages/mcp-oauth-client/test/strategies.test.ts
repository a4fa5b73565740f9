import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { MACHINE_CLIENT, startLocalServer, startTestAuthorizationServer, type DevAuthorizationServer } from '@portcullis/test-fixtures';
import type { AuthStrategy } from '../src/auth-strategy.js';
import { McpOAuthError } from '../src/errors.js';
import { mcpTransportOAuth } from '../src/mcp-sdk.js';
import { clientCredentialsStrategy } from '../src/oauth-strategy.js';
import { staticToken } from '../src/static-token.js';
import { withOAuth } from '../src/with-oauth.js';
import { startResourceServer, type TestResourceServer } from './helpers/resource-server.js';

/**
 * A tiny MCP-ish server on 127.0.0.1 that counts requests and records the Authorization headers it
 * received; `accept` decides which header values pass, everything else gets a Bearer 401 challenge.
 */
interface CountingServer {
  readonly url: string;
  readonly authorizations: (string | undefined)[];
  accept: (authorization: string | undefined) => boolean;
  onAccepted: (req: IncomingMessage, res: ServerResponse, body: string) => Promise<void>;
  close(): Promise<void>;
}

async function startCountingServer(): Promise<CountingServer> {
  const local = await startLocalServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      state.authorizations.push(req.headers.authorization);
      if (!state.accept(req.headers.authorization)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token", error_description="expired"' }).end();
        return;
      }
      await state.onAccepted(req, res, body);
    })().catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  // What the tests set is read by the handler from this very object.
  const state: CountingServer = {
    url: `${local.url}/mcp`,
    authorizations: [],
    accept: () => false,
    onAccepted: async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    },
    close: local.close,
  };
  return state;
}

let server: CountingServer;
beforeAll(async () => {
  server = await startCountingServer();
});
afterEach(() => {
  server.authorizations.length = 0;
  server.accept = () => false;
});
afterAll(async () => {
  await server.close();
});

const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' };

async function rejection(promise: Promise<unknown>): Promise<McpOAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(McpOAuthError);
  return error as McpOAuthError;
}

describe('static token strategy (issue 8; C-35)', () => {
  it('C-35 attaches the static token as a Bearer Authorization header', async () => {
    server.accept = (authorization) => authorization === 'Bearer env-token-123';
    const response = await withOAuth(globalThis.fetch, staticToken('env-token-123'))(server.url, post);
    expect(response.status).toBe(200);
    expect(server.authorizations).toEqual(['Bearer env-token-123']);
  });

  it('reads a token function for every request (a rotated secret is picked up)', async () => {
    let current = 'first';
    server.accept = () => true;
    const fetch = withOAuth(globalThis.fetch, staticToken(() => current));
    await fetch(server.url, post);
    current = 'second';
    await fetch(server.url, post);
    expect(server.authorizations).toEqual(['Bearer first', 'Bearer second']);
  });

  it('a 401 fails at once with static_token_rejected: one request, no retry, no token in the message', async () => {
    const error = await rejection(withOAuth(globalThis.fetch, staticToken('stale-token-xyz'))(server.url, post));
    expect(error.code).toBe('static_token_rejected');
    expect(error.status).toBe(401);
    expect(error.message).toContain(server.url);
    expect(error.message).toContain('invalid_token');
    expect(error.message).not.toContain('stale-token-xyz');
    expect(server.authorizations).toHaveLength(1);
  });

  it('rejects an empty token at construction (invalid_options)', () => {
    expect(() => staticToken('')).toThrow(expect.objectContaining({ code: 'invalid_options' }));
  });

  it('refuses a token with a line break or a space inside (invalid_options), and never quotes it: no request is sent', async () => {
    for (const token of ['SECRET-1\r\nx', 'SECRET-2 x', ' SECRET-3\n\tx ']) {
      const thrown = (() => {
        try {
          staticToken(token);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(thrown).toMatchObject({ code: 'invalid_options' });
      expect(thrown!.message).not.toContain('SECRET');
      const error = await rejection(withOAuth(globalThis.fetch, staticToken(() => token))(server.url, post));
      expect(error).toMatchObject({ code: 'invalid_options' });
      expect(error.message).not.toContain('SECRET');
    }
    expect(server.authorizations).toHaveLength(0);
  });

  it('sends a token read from a file without its trailing newline', async () => {
    server.accept = () => true;
    await withOAuth(globalThis.fetch, staticToken('env-token-123\n'))(server.url, post);
    await withOAuth(globalThis.fetch, staticToken(() => '  env-token-456\r\n'))(server.url, post);
    expect(server.authorizations).toEqual(['Bearer env-token-123', 'Bearer env-token-456']);
  });
});

describe('custom strategy seam (issue 8)', () => {
  it('refreshes from its own source on a 401 and retries with the new state', async () => {
    // The "vault": hands out v1, and v2 once asked for a fresh token.
    const issued: string[] = [];
    const vault = {
      version: 1,
      read(fresh = false): string {
        if (fresh) this.version++;
        issued.push(`vault-token-v${this.version}`);
        return `vault-token-v${this.version}`;
      },
    };
    const seen: { status: number; error: string | undefined; retries: number }[] = [];
    const fromVault: AuthStrategy<string> = {
      start: () => vault.read(),
      headers: (_request, token) => ({ authorization: `Bearer ${token}` }),
      onChallenge: ({ status, challenge, retries }) => {
        seen.push({ status, error: challenge?.error, retries });
        return status === 401 ? { action: 'retry', state: vault.read(true) } : { action: 'fail' };
      },
    };
    server.accept = (authorization) => authorization === 'Bearer vault-token-v2';
    const response = await withOAuth(globalThis.fetch, fromVault)(server.url, post);
    expect(response.status).toBe(200);
    expect(server.authorizations).toEqual(['Bearer vault-token-v1', 'Bearer vault-token-v2']);
    expect(seen).toEqual([{ status: 401, error: 'invalid_token', retries: 0 }]);
    expect(issued).toEqual(['vault-token-v1', 'vault-token-v2']);
  });

  it('"fail" without an error hands the 401 response back unchanged', async () => {
    const giveUp: AuthStrategy = { headers: () => ({}), onChallenge: () => ({ action: 'fail' }) };
    const response = await withOAuth(globalThis.fetch, giveUp)(server.url, post);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('invalid_token');
    expect(server.authorizations).toHaveLength(1);
  });
});

describe('retry bound (issue 8; C-24)', () => {
  const alwaysRetry = (maxRetries?: number): AuthStrategy<number> & { calls: number } => {
    const strategy = {
      calls: 0,
      start: () => 0,
      headers: (_request: unknown, n: number) => ({ authorization: `Bearer attempt-${n}` }),
      onChallenge: (_challenge: unknown, n: number) => {
        strategy.calls++;
        return { action: 'retry' as const, state: n + 1 };
      },
      ...(maxRetries !== undefined && { maxRetries }),
    };
    return strategy;
  };

  it('C-24 a server answering 401 forever gets exactly 2 + 1 requests, then retry_limit', async () => {
    const strategy = alwaysRetry();
    const error = await rejection(withOAuth(globalThis.fetch, strategy)(server.url, post));
    expect(error.code).toBe('retry_limit');
    expect(error.status).toBe(401);
    expect(server.authorizations).toEqual(['Bearer attempt-0', 'Bearer attempt-1', 'Bearer attempt-2']);
    // The strategy is not asked again once no retry is left.
    expect(strategy.calls).toBe(2);
  });

  it('C-24 the bound is per request and configurable: maxRetries 1 → exactly 2 requests per call', async () => {
    const fetch = withOAuth(globalThis.fetch, alwaysRetry(1));
    expect((await rejection(fetch(server.url, post))).code).toBe('retry_limit');
    expect((await rejection(fetch(server.url, post))).code).toBe('retry_limit');
    expect(server.authorizations).toEqual(['Bearer attempt-0', 'Bearer attempt-1', 'Bearer attempt-0', 'Bearer attempt-1']);
  });
});

describe('the OAuth flow as a strategy of the same shape (issue 8; X-01)', () => {
  let as: DevAuthorizationServer;
  let rs: TestResourceServer;
  beforeAll(async () => {
    rs = await startResourceServer({ scopesSupported: ['mcp:tools'] });
    as = await startTestAuthorizationServer({ resources: [{ uri: rs.url, scopes: ['mcp:tools'] }] });
    rs.issuer = as.issuer;
  });
  afterAll(async () => {
    await rs.close();
    await as.close();
  });

  it('X-01 clientCredentialsStrategy, wrapped by a custom strategy that adds a header and counts challenges', async () => {
    const inner = clientCredentialsStrategy({ allowInsecureLoopback: true, preRegistered: [{ ...MACHINE_CLIENT, issuer: as.issuer }] });
    const challenges: number[] = [];
    const wrapped: typeof inner = {
      ...inner,
      headers: async (request, state) => ({ ...(await inner.headers(request, state)), 'x-tenant': 'acme' }),
      onChallenge: (challenge, state) => {
        challenges.push(challenge.status);
        return inner.onChallenge(challenge, state);
      },
    };
    const fetch = withOAuth(globalThis.fetch, wrapped);
    expect((await fetch(rs.url, post)).status).toBe(200);
    expect((await fetch(rs.url, post)).status).toBe(200);
    // One discovery 401, then the cached token; one token request at the AS.
    expect(challenges).toEqual([401]);
    expect(as.requestCount('/token')).toBe(1);
    expect(rs.requests).toBe(3);
  });
});

describe('static token through the MCP SDK 1.x client transport', () => {
  /** A stateless SDK 1.x MCP server. */
  async function mcp(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const mcpServer = new McpServer({ name: 'static', version: '1.0.0' });
    mcpServer.registerTool('echo', { description: 'echo' }, async () => ({ content: [{ type: 'text', text: 'hello' }] }));
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void mcpServer.close();
    });
    await mcpServer.connect(transport);
    await transport.handleRequest(req, res, body ? (JSON.parse(body) as unknown) : undefined);
  }

  it('C-35 connects, lists and calls tools with mcpTransportOAuth(staticToken(...)) behind a static check', async () => {
    server.accept = (authorization) => authorization === 'Bearer sdk-static-token';
    server.onAccepted = mcp;
    const { transportOptions } = mcpTransportOAuth(staticToken('sdk-static-token'));
    const client = new ClientV1({ name: 'portcullis-static', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(server.url), transportOptions));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    expect((await client.callTool({ name: 'echo', arguments: {} })).content).toEqual([{ type: 'text', text: 'hello' }]);
    await client.close();
    expect(server.authorizations.length).toBeGreaterThanOrEqual(3);
    expect(new Set(server.authorizations)).toEqual(new Set(['Bearer sdk-static-token']));
  });

  it.each(['same-origin', 'follow'] as const)('C-46 a server that moved /mcp to /mcp/ (308) is reached with redirectPolicy %s, the token sent to each hop', async (redirectPolicy) => {
    server.accept = (authorization) => authorization === 'Bearer sdk-static-token';
    server.onAccepted = async (req, res, body) => {
      if (new URL(req.url ?? '/', 'http://x').pathname === '/mcp') return void res.writeHead(308, { location: '/mcp/' }).end();
      await mcp(req, res, body);
    };
    const { transportOptions } = mcpTransportOAuth(staticToken('sdk-static-token'));
    const client = new ClientV1({ name: 'portcullis-static', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(server.url), { ...transportOptions, redirectPolicy }));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    await client.close();
    expect(new Set(server.authorizations)).toEqual(new Set(['Bearer sdk-static-token']));
  });

  it('a wrong static token fails connect with static_token_rejected after one request', async () => {
    server.accept = (authorization) => authorization === 'Bearer sdk-static-token';
    const { transportOptions } = mcpTransportOAuth(staticToken('wrong-token'));
    const client = new ClientV1({ name: 'portcullis-static', version: '1.0.0' });
    const error = await client.connect(new TransportV1(new URL(server.url), transportOptions)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'static_token_rejected' });
    expect(server.authorizations).toEqual(['Bearer wrong-token']);
  });
});
