import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestAuthorizationServer, type DevAuthorizationServer } from '@portcullis/test-fixtures';
import { createHeadlessAuthorizationHandler } from '../src/headless-authorization.js';
import { createOAuthClient } from '../src/oauth-client.js';
import { createMemoryStore, asStoredTokens } from '../src/token-store.js';
import { withOAuth } from '../src/with-oauth.js';
import { startResourceServer, type TestResourceServer } from './helpers/resource-server.js';

const SCOPES = ['mcp:tools', 'files:read', 'files:write'];
let as: DevAuthorizationServer;
let rs: TestResourceServer;

beforeAll(async () => {
  rs = await startResourceServer({ scopesSupported: ['mcp:tools'] });
  as = await startTestAuthorizationServer({ resources: [{ uri: rs.url, scopes: SCOPES }] });
  rs.issuer = as.issuer;
});
afterAll(async () => {
  await rs.close();
  await as.close();
});

const redirectUri = 'http://127.0.0.1:65000/callback';
const post = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('end to end against oidc-provider', () => {
  it('C-02 C-07 C-16 C-25 C-27 authorization code + PKCE with dynamic registration, through withOAuth', async () => {
    const store = createMemoryStore();
    const client = createOAuthClient({ redirectUri, allowInsecureLoopback: true, authorizationHandler: createHeadlessAuthorizationHandler(), store });
    const fetch = withOAuth(globalThis.fetch, client);
    const response = await fetch(rs.url, post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { scopes: string[] }).scopes).toEqual(['mcp:tools']);
    expect(as.requestCount('/reg')).toBeGreaterThanOrEqual(1);
    const ctx = await client.context(rs.url);
    expect(ctx.client.source).toBe('dynamic');
    const stored = asStoredTokens(await store.get(ctx.tokensKey));
    expect(stored?.refreshToken).toBeDefined();
    expect(stored?.expiresAt).toBeGreaterThan(Date.now());
  });
});
