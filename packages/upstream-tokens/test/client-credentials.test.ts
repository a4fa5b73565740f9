import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createJwtVerifier } from '@portcullis/token-verification';
import { JWT_RESOURCE, RESOURCE_SCOPES, startTestAuthorizationServer, type DevAuthorizationServer } from '@portcullis/test-fixtures';
import { createClientCredentialsSource } from '../src/client-credentials.js';
import { upstreamFetch } from '../src/upstream-fetch.js';
import { registerClient, startUpstreamService, type UpstreamService } from './helpers.js';

let as: DevAuthorizationServer;
let upstream: UpstreamService;
let client = { clientId: '', clientSecret: '' };

beforeAll(async () => {
  upstream = await startUpstreamService();
  as = await startTestAuthorizationServer({
    resources: [
      { uri: JWT_RESOURCE, scopes: RESOURCE_SCOPES },
      { uri: upstream.url, scopes: ['upstream:read'] },
    ],
  });
  upstream.verifier = createJwtVerifier({ issuer: as.issuer, audience: upstream.url, allowInsecureHttp: true, requireRfc9068: true });
  const registered = await registerClient(as, { client_name: 'mcp-server', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' });
  client = { clientId: registered.client_id, clientSecret: registered.client_secret! };
});
afterAll(async () => {
  await upstream.close();
  await as.close();
});

describe('client credentials with the server’s own identity (issue 8; S-13)', () => {
  it('S-13 gets a token for the upstream with the server’s own identity, cached and single-flight', async () => {
    const source = createClientCredentialsSource({
      issuer: as.issuer,
      allowInsecureHttp: true,
      client: { method: 'client_secret_post', ...client },
      resource: upstream.url,
      scope: 'upstream:read',
    });
    const before = as.requestCount('/token');
    const tokens = await Promise.all([source.getToken(), source.getToken(), source.getToken()]);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    const api = upstreamFetch(source.getToken);
    expect((await api(upstream.url)).status).toBe(200);
    expect(as.requestCount('/token') - before).toBe(1);
    const claims = upstream.claimsSeen.at(-1)!;
    expect(claims['aud']).toBe(upstream.url);
    expect(claims['sub']).toBe(client.clientId);
    expect(claims['scope']).toBe('upstream:read');
    expect(claims['act']).toBeUndefined();
  });

  it('upstreamFetch replaces any Authorization header given, so a caller token cannot ride along', async () => {
    const api = upstreamFetch(async () => 'upstream-token');
    const seen = upstream.tokensSeen.length;
    await api(new Request(upstream.url, { headers: { authorization: 'Bearer the-callers-token' } }));
    await api(upstream.url, { headers: { authorization: 'Bearer the-callers-token' } });
    expect(upstream.tokensSeen.slice(seen)).toEqual(['upstream-token', 'upstream-token']);
  });
});
