/**
 * S-22 C-38: nothing leaks. A full run — real oidc-provider, an Express MCP server behind
 * `bearerAuth` + `createJwtVerifier`, an introspection verifier, the client's authorization code +
 * PKCE flow with dynamic registration, refresh with rotation, a refused refresh, client credentials,
 * forged tokens and refusals — with every console method and every write to stdout/stderr captured,
 * plus every error message (and cause) and every refusal the server sent. None of it may contain an
 * access token, refresh token, authorization code, PKCE verifier or client secret.
 */
import { format } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import {
  clientCredentialsToken,
  INTROSPECTOR,
  MACHINE_CLIENT,
  OPAQUE_RESOURCE,
  startTestAuthorizationServer,
  type DevAuthorizationServer,
} from '@portcullis/test-fixtures';
import { bearerAuth } from '@portcullis/bearer-auth';
import { defineProtectedResource, protectedResourceMetadata } from '@portcullis/protected-resource-metadata';
import { createIntrospectionVerifier, createJwtVerifier } from '@portcullis/token-verification';
import {
  asStoredTokens,
  consoleLogger,
  createHeadlessAuthorizationHandler,
  createMemoryStore,
  createOAuthClient,
  createSafeFetch,
  withOAuth,
  type FetchLike,
} from '@portcullis/mcp-oauth-client';
import { listen, type Listening } from './support.js';

const captured: string[] = [];
const secrets = new Set<string>();
const remember = (value: unknown) => {
  if (typeof value === 'string' && value.length >= 8) {
    secrets.add(value);
    // A JWT's signature alone identifies it too.
    const parts = value.split('.');
    if (parts.length === 3 && parts[2]!.length >= 16) secrets.add(parts[2]!);
  }
};
/** Every message of an error and of its causes, and its stack. */
const captureError = (error: unknown) => {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) captured.push(e.message, e.stack ?? '', JSON.stringify(e));
};

const CONSOLE = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
const originals = new Map<string, unknown>();

let as: DevAuthorizationServer;
let rs: Listening;
let mcpUrl: string;

beforeAll(async () => {
  for (const name of CONSOLE) {
    originals.set(name, console[name]);
    console[name] = (...args: unknown[]) => void captured.push(format(...args));
  }
  for (const stream of [process.stdout, process.stderr]) {
    originals.set(stream === process.stdout ? 'stdout' : 'stderr', stream.write);
    stream.write = ((chunk: unknown) => {
      captured.push(String(chunk));
      return true;
    }) as typeof stream.write;
  }
  remember(MACHINE_CLIENT.clientSecret);
  remember(INTROSPECTOR.clientSecret);

  const app = express();
  rs = await listen(app);
  mcpUrl = `${rs.url}/mcp`;
  as = await startTestAuthorizationServer({ resources: [{ uri: mcpUrl, scopes: ['mcp:tools'] }, { uri: OPAQUE_RESOURCE, scopes: ['mcp:tools'], format: 'opaque' }] });
  const resource = defineProtectedResource({ resource: mcpUrl, authorizationServers: [as.issuer], scopesSupported: ['mcp:tools'] });
  const verifier = createJwtVerifier({ issuer: as.issuer, audience: mcpUrl, jwksUri: `${as.issuer}/jwks`, requireRfc9068: true });
  app.use(protectedResourceMetadata(resource));
  app.use('/mcp', bearerAuth({ verifier, resource, requiredScopes: ['mcp:tools'] }));
  app.post('/mcp', (_req, res) => void res.json({ jsonrpc: '2.0', id: 1, result: {} }));
});

afterAll(async () => {
  for (const name of CONSOLE) console[name] = originals.get(name) as never;
  process.stdout.write = originals.get('stdout') as never;
  process.stderr.write = originals.get('stderr') as never;
  await rs.close();
  await as.close();
});

/** Records every secret that crosses the client's OAuth fetch: requests (code, verifier, refresh token, secret) and responses (tokens, registered secret). */
function recordingFetch(inner: FetchLike): FetchLike {
  return async (input, init) => {
    const body = typeof init?.body === 'string' ? init.body : init?.body instanceof URLSearchParams ? init.body.toString() : '';
    for (const [name, value] of new URLSearchParams(body)) if (['code', 'code_verifier', 'refresh_token', 'client_secret', 'assertion'].includes(name)) remember(value);
    const authorization = new Headers(init?.headers).get('authorization');
    if (authorization?.startsWith('Basic ')) for (const part of Buffer.from(authorization.slice(6), 'base64').toString().split(':')) remember(decodeURIComponent(part));
    const response = await inner(input, init);
    try {
      const json = (await response.clone().json()) as Record<string, unknown>;
      for (const field of ['access_token', 'refresh_token', 'id_token', 'client_secret', 'registration_access_token']) remember(json[field]);
    } catch {
      // not JSON: nothing to remember
    }
    return response;
  };
}

const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) };

describe('S-22 C-38 nothing leaks into logs or error messages', () => {
  it('a full run with real tokens, then every output and error is searched for them', async () => {
    const store = createMemoryStore();
    const oauthFetch = recordingFetch(createSafeFetch({ allowInsecureLoopback: true }));
    const headless = createHeadlessAuthorizationHandler();
    const userClient = () => createOAuthClient({
      redirectUri: 'http://127.0.0.1:65000/callback',
      allowInsecureLoopback: true,
      oauthFetch,
      store,
      logger: { warn: consoleLogger.warn, debug: (m) => console.debug(m) },
      authorizationHandler: async (url, context) => {
        remember(url.searchParams.get('code_challenge'));
        const callback = new URL(await headless(url, context));
        remember(callback.searchParams.get('code'));
        return callback;
      },
    });
    const client = userClient();
    const fetch = withOAuth(globalThis.fetch, client);

    // 1. Authorization code + PKCE + DCR, then a real call.
    expect((await fetch(mcpUrl, post)).status).toBe(200);
    const ctx = await client.context(mcpUrl);
    const first = asStoredTokens(await store.get(ctx.tokensKey))!;
    remember(first.accessToken);
    remember(first.refreshToken);

    // 2. Refresh with rotation.
    await store.set(ctx.tokensKey, { ...first, expiresAt: Date.now() - 1000 });
    expect((await fetch(mcpUrl, post)).status).toBe(200);
    const second = asStoredTokens(await store.get(ctx.tokensKey))!;
    remember(second.accessToken);
    remember(second.refreshToken);

    // 3. A refused refresh: another process (its own client, same store) presents the spent refresh token.
    await store.set(ctx.tokensKey, { ...second, refreshToken: first.refreshToken!, expiresAt: Date.now() - 1000 });
    const otherProcess = userClient();
    await otherProcess.context(mcpUrl);
    expect(await otherProcess.tokens(mcpUrl)).toBeUndefined();

    // 4. Forged, expired-looking and foreign tokens against the server: every refusal is captured.
    const machine = await clientCredentialsToken(as, { resource: OPAQUE_RESOURCE, scope: 'mcp:tools' });
    remember(machine.access_token);
    const [h, p, s] = second.accessToken.split('.') as [string, string, string];
    for (const token of [`${h}.${p}.${s.slice(0, -4)}AAAA`, machine.access_token, second.accessToken.toLowerCase(), `${h}.${p}`]) {
      const response = await globalThis.fetch(mcpUrl, { ...post, headers: { ...post.headers, authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
      captured.push(response.headers.get('www-authenticate') ?? '', await response.text());
    }
    const query = await globalThis.fetch(`${mcpUrl}?access_token=${second.accessToken}`, post);
    expect(query.status).toBe(400);
    captured.push(query.headers.get('www-authenticate') ?? '', await query.text());

    // 5. Verifier errors, JWT and introspection (good and bad secrets), captured with their causes.
    const jwt = createJwtVerifier({ issuer: as.issuer, audience: mcpUrl, jwksUri: `${as.issuer}/jwks` });
    await jwt(`${h}.${p}.${s.slice(0, -4)}AAAA`).catch(captureError);
    await jwt(machine.access_token).catch(captureError);
    const introspect = createIntrospectionVerifier({
      issuer: as.issuer,
      audience: mcpUrl,
      client: { method: 'client_secret_basic', clientId: INTROSPECTOR.clientId, clientSecret: INTROSPECTOR.clientSecret },
    });
    await introspect(machine.access_token).catch(captureError); // active, but for another audience
    const wrongSecret = `${INTROSPECTOR.clientSecret}-wrong`;
    remember(wrongSecret);
    await createIntrospectionVerifier({ issuer: as.issuer, audience: OPAQUE_RESOURCE, client: { method: 'client_secret_post', clientId: INTROSPECTOR.clientId, clientSecret: wrongSecret } })(machine.access_token).catch(captureError);

    // 6. Client errors: a token request with a wrong client secret, and a server that refuses forever.
    const badClient = createOAuthClient({
      grant: { type: 'client_credentials' },
      preRegistered: [{ clientId: MACHINE_CLIENT.clientId, clientSecret: wrongSecret, issuer: as.issuer }],
      allowInsecureLoopback: true,
      oauthFetch,
      logger: consoleLogger,
    });
    await withOAuth(globalThis.fetch, badClient)(mcpUrl, post).catch(captureError);
    const machineClient = createOAuthClient({
      grant: { type: 'client_credentials' },
      preRegistered: [{ clientId: MACHINE_CLIENT.clientId, clientSecret: MACHINE_CLIENT.clientSecret, issuer: as.issuer }],
      allowInsecureLoopback: true,
      oauthFetch,
      logger: consoleLogger,
    });
    const refusing: FetchLike = async () => new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer error="invalid_token", resource_metadata="${rs.url}/.well-known/oauth-protected-resource/mcp"` } });
    await withOAuth(refusing, machineClient)(mcpUrl, post).catch(captureError);

    // The run produced what we search for, and the captures are not empty.
    expect(secrets.size).toBeGreaterThanOrEqual(10);
    expect(captured.join('\n')).toMatch(/Refresh for .* failed/);
    const everything = captured.join('\n');
    for (const secret of secrets) expect({ leaked: everything.includes(secret), length: secret.length }).toEqual({ leaked: false, length: secret.length });
  });
});
