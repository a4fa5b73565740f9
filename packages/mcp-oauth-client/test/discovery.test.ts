import { describe, expect, it } from '@jest/globals';
import {
  authorizationServerMetadataUrls,
  canonicalServerUrl,
  discover,
  discoverAuthorizationServer,
  protectedResourceMetadataUrls,
  resourceMatchesServer,
  validateAuthorizationServerMetadata,
} from '../src/discovery.js';
import { McpOAuthError } from '../src/errors.js';
import type { FetchLike } from '../src/safe-fetch.js';

/** A fetch stub at the network edge: serves a fixed map of URLs, 404 otherwise, and records requests. */
function mapFetch(routes: Record<string, unknown>) {
  const requested: string[] = [];
  const headers: Headers[] = [];
  const fetch: FetchLike = async (input, init) => {
    const url = String(input);
    requested.push(url);
    headers.push(new Headers(init?.headers));
    return url in routes ? Response.json(routes[url]) : new Response('not found', { status: 404 });
  };
  return { fetch, requested, headers };
}

const AS_META = (issuer: string) => ({
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  code_challenge_methods_supported: ['S256'],
});

describe('protected resource metadata discovery (RFC 9728)', () => {
  it('C-02 order: challenge resource_metadata, path-inserted, root', () => {
    expect(protectedResourceMetadataUrls(new URL('https://mcp.example/api/mcp/'), 'https://mcp.example/prm').map(String)).toEqual([
      'https://mcp.example/prm',
      'https://mcp.example/.well-known/oauth-protected-resource/api/mcp',
      'https://mcp.example/.well-known/oauth-protected-resource',
    ]);
    expect(protectedResourceMetadataUrls(new URL('https://mcp.example/')).map(String)).toEqual(['https://mcp.example/.well-known/oauth-protected-resource']);
  });

  it.each([
    ['identical', 'https://mcp.example/mcp', true],
    ['origin of a root PRM', 'https://mcp.example', true],
    ['origin with a slash', 'https://mcp.example/', true],
    ['trailing slash', 'https://mcp.example/mcp/', true],
    ['other origin', 'https://evil.example.com/mcp', false],
    ['other port', 'https://mcp.example:8443/mcp', false],
    ['string prefix that is not a segment', 'https://mcp.example/mc', false],
    ['child path', 'https://mcp.example/mcp/sub', false],
    ['not a URL', 'mcp', false],
  ])('C-04 resource %s → %s', (_title, resource, expected) => {
    expect(resourceMatchesServer(resource, new URL('https://mcp.example/mcp'))).toBe(expected);
  });

  it('C-02 conf:auth/metadata-default uses resource_metadata from the challenge first', async () => {
    const { fetch, requested } = mapFetch({
      'https://mcp.example/custom-prm': { resource: 'https://mcp.example/mcp', authorization_servers: ['https://as.example'] },
      'https://as.example/.well-known/oauth-authorization-server': AS_META('https://as.example'),
    });
    const result = await discover(new URL('https://mcp.example/mcp'), { fetch, resourceMetadata: 'https://mcp.example/custom-prm' });
    expect(result.resource).toBe('https://mcp.example/mcp');
    expect(requested[0]).toBe('https://mcp.example/custom-prm');
  });

  it('C-02 conf:auth/metadata-var falls back to the root PRM and sends its resource verbatim (no added slash)', async () => {
    const { fetch, requested } = mapFetch({
      'https://mcp.example/.well-known/oauth-protected-resource': { resource: 'https://mcp.example', authorization_servers: ['https://as.example'] },
      'https://as.example/.well-known/oauth-authorization-server': AS_META('https://as.example'),
    });
    const result = await discover(new URL('https://mcp.example/mcp'), { fetch });
    expect(result.resource).toBe('https://mcp.example');
    expect(requested.slice(0, 2)).toEqual(['https://mcp.example/.well-known/oauth-protected-resource/mcp', 'https://mcp.example/.well-known/oauth-protected-resource']);
  });

  it('C-04 conf:auth/resource-mismatch refuses a PRM naming another resource', async () => {
    const { fetch, requested } = mapFetch({
      'https://mcp.example/.well-known/oauth-protected-resource/mcp': { resource: 'https://evil.example.com/mcp', authorization_servers: ['https://as.example'] },
    });
    const error = await discover(new URL('https://mcp.example/mcp'), { fetch }).catch((e: unknown) => e);
    expect((error as McpOAuthError).code).toBe('resource_mismatch');
    expect(requested.some((u) => u.startsWith('https://as.example'))).toBe(false);
  });
});

describe('authorization server metadata discovery (RFC 8414, OIDC Discovery)', () => {
  it('C-07 order for an issuer with a path, no root fallback', () => {
    expect(authorizationServerMetadataUrls('https://as.example/t1').map(String)).toEqual([
      'https://as.example/.well-known/oauth-authorization-server/t1',
      'https://as.example/.well-known/openid-configuration/t1',
      'https://as.example/t1/.well-known/openid-configuration',
    ]);
  });
  it('C-07 order for an issuer without a path', () => {
    expect(authorizationServerMetadataUrls('https://as.example').map(String)).toEqual([
      'https://as.example/.well-known/oauth-authorization-server',
      'https://as.example/.well-known/openid-configuration',
    ]);
  });
  it('C-06 conf:auth/metadata-var3 finds OIDC path-appended metadata after two misses', async () => {
    const { fetch, requested } = mapFetch({ 'https://as.example/t1/.well-known/openid-configuration': AS_META('https://as.example/t1') });
    expect((await discoverAuthorizationServer('https://as.example/t1', { fetch })).issuer).toBe('https://as.example/t1');
    expect(requested).toHaveLength(3);
  });
  it.each([
    ['another host', 'https://evil.example'],
    ['a trailing slash (no normalization)', 'https://as.example/'],
    ['upper case', 'https://AS.example'],
    ['missing', undefined],
  ])('C-08 conf:auth/metadata-issuer-mismatch refuses issuer %s', (_title, issuer) => {
    expect(() => validateAuthorizationServerMetadata('https://as.example', { ...AS_META('x'), issuer })).toThrow(
      expect.objectContaining({ code: 'issuer_mismatch' }) as unknown as Error,
    );
  });
  it('C-08 stops at the first document found even when its issuer is wrong', async () => {
    const { fetch, requested } = mapFetch({
      'https://as.example/.well-known/oauth-authorization-server': AS_META('https://evil.example'),
      'https://as.example/.well-known/openid-configuration': AS_META('https://as.example'),
    });
    await expect(discoverAuthorizationServer('https://as.example', { fetch })).rejects.toMatchObject({ code: 'issuer_mismatch' });
    expect(requested).toHaveLength(1);
  });
  it.each([
    ['an http registration_endpoint under an https issuer', { registration_endpoint: 'http://as.example/register' }],
    ['a relative authorization_endpoint', { authorization_endpoint: '/authorize' }],
    ['a token_endpoint that is not a URL', { token_endpoint: 'not a url' }],
    ['a javascript: authorization_endpoint', { authorization_endpoint: 'javascript:alert(1)' }],
    ['a number for token_endpoint', { token_endpoint: 42 }],
    ['code_challenge_methods_supported as a number', { code_challenge_methods_supported: 1 }],
    ['scopes_supported as a string', { scopes_supported: 'xoffline_access' }],
    ['scopes_supported as an object', { scopes_supported: {} }],
    ['token_endpoint_auth_methods_supported with a non-string', { token_endpoint_auth_methods_supported: ['none', 7] }],
  ])('C-40 refuses AS metadata with %s (invalid_metadata, not an untyped error later)', (_title, extra) => {
    let caught: unknown;
    try {
      validateAuthorizationServerMetadata('https://as.example', { ...AS_META('https://as.example'), ...extra });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(McpOAuthError);
    expect(caught).toMatchObject({ code: 'invalid_metadata' });
  });
  it('accepts http endpoints under an http (loopback, development) issuer, and https ones under any', () => {
    const issuer = 'http://127.0.0.1:9000';
    expect(validateAuthorizationServerMetadata(issuer, { ...AS_META(issuer), registration_endpoint: 'https://127.0.0.1:9001/register' }).token_endpoint).toBe(`${issuer}/token`);
  });
  it('reports metadata_not_found when nothing answers', async () => {
    await expect(discoverAuthorizationServer('https://as.example', mapFetch({}))).rejects.toMatchObject({ code: 'metadata_not_found' });
  });
});

describe('2025-03-26 fallbacks', () => {
  it('L-01 conf:auth/2025-03-26-oauth-metadata-backcompat: no PRM → origin metadata, MCP-Protocol-Version sent', async () => {
    const { fetch, requested, headers } = mapFetch({ 'https://mcp.example/.well-known/oauth-authorization-server': AS_META('https://mcp.example') });
    const result = await discover(new URL('https://mcp.example/mcp'), { fetch, protocolVersion: '2025-03-26' });
    expect(result.authorizationServer.token_endpoint).toBe('https://mcp.example/token');
    expect(result.resource).toBe('https://mcp.example/mcp');
    expect(requested.at(-1)).toBe('https://mcp.example/.well-known/oauth-authorization-server');
    expect(headers.at(-1)?.get('mcp-protocol-version')).toBe('2025-03-26');
  });
  it('L-02 conf:auth/2025-03-26-oauth-endpoint-fallback: no metadata → /authorize, /token, /register', async () => {
    const result = await discover(new URL('https://mcp.example/mcp'), mapFetch({}));
    expect(result.authorizationServer).toMatchObject({
      issuer: 'https://mcp.example',
      authorization_endpoint: 'https://mcp.example/authorize',
      token_endpoint: 'https://mcp.example/token',
      registration_endpoint: 'https://mcp.example/register',
    });
  });
  it('C-01 C-02 a 401 that names its metadata rules the fallbacks out: no PRM there or at the well-known URLs is metadata_not_found', async () => {
    const { fetch, requested } = mapFetch({ 'https://mcp.example/.well-known/oauth-authorization-server': AS_META('https://mcp.example') });
    const resourceMetadata = 'https://mcp.example/.well-known/oauth-protected-resource/mcp';
    const error = await discover(new URL('https://mcp.example/mcp'), { fetch, resourceMetadata }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'McpOAuthError', code: 'metadata_not_found', message: expect.stringContaining(resourceMetadata) });
    expect(requested).not.toContain('https://mcp.example/.well-known/oauth-authorization-server');
  });
  it('C-26 canonical server URL drops query, fragment and a lone slash', () => {
    expect(canonicalServerUrl('https://MCP.example/mcp?x=1#f')).toBe('https://mcp.example/mcp');
    expect(canonicalServerUrl('https://mcp.example/')).toBe('https://mcp.example');
  });
});
