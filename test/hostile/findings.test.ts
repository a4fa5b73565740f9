/**
 * Regressions for the hostile suite's findings (FINDINGS.md F-1…F-4), each fixed in its package.
 */
import { describe, expect, it } from '@jest/globals';
import { createOAuthClient, createSafeFetch, McpOAuthError, withOAuth } from '@portcullis/mcp-oauth-client';
import { ConfigurationError } from '@portcullis/token-verification';
import { defineProtectedResource } from '@portcullis/protected-resource-metadata';
import { json, PUBLIC_ADDRESS, virtualInternet } from './support.js';

const MCP = 'https://mcp.example.com/mcp';
const PRM_URL = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
const lookup = async () => [{ address: PUBLIC_ADDRESS, family: 4 as const }];
const client = (prm: unknown, allowInsecureLoopback = false) => {
  const net = virtualInternet({ [PRM_URL]: () => json(prm) });
  const oauthFetch = createSafeFetch({ lookup, transport: net.transport, allowInsecureLoopback });
  return { net, client: createOAuthClient({ grant: { type: 'client_credentials' }, preRegistered: [{ clientId: 'x', clientSecret: 'y', issuer: 'https://as.example.com' }], oauthFetch, allowInsecureLoopback }) };
};

describe('hostile findings, fixed', () => {
  it('F-1 C-48 authorization_servers with file:, javascript:, data: or a non-URL → a typed McpOAuthError, not a TypeError', async () => {
    for (const target of ['file:///etc/passwd', 'javascript:alert(1)', 'data:application/json,{}', 'not a url']) {
      const { client: c } = client({ resource: MCP, authorization_servers: [target] });
      await expect(c.context(MCP)).rejects.toBeInstanceOf(McpOAuthError);
    }
  });

  it('F-2 C-03 a 401 whose resource_metadata is not an absolute URL → McpOAuthError (or well-known fallback), not a TypeError', async () => {
    for (const rm of ['not a url', '//evil.example/x', '/relative']) {
      const { client: c } = client({ resource: MCP, authorization_servers: ['https://as.example.com'] });
      const fetch = withOAuth(async () => new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer resource_metadata="${rm}"` } }), c);
      const error = await fetch(MCP).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(McpOAuthError);
    }
  });

  it('F-3 C-44 C-45 with allowInsecureLoopback, a public MCP server cannot steer the client to loopback ([::1], 127.0.0.1)', async () => {
    for (const target of ['http://[::1]:9', 'http://127.0.0.1:9', 'https://localhost']) {
      const { client: c, net } = client({ resource: MCP, authorization_servers: [target] }, true);
      const error = await c.context(MCP).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ssrf_blocked' });
      expect(net.deliveries.filter((d) => !d.url.startsWith('https://mcp.example.com/'))).toHaveLength(0);
    }
  });

  it('F-3 C-44 C-45 with allowInsecureLoopback, a public server\'s challenge cannot point resource_metadata at loopback', async () => {
    const { client: c, net } = client({ resource: MCP, authorization_servers: ['https://as.example.com'] }, true);
    const fetch = withOAuth(async () => new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer resource_metadata="http://127.0.0.1:9/prm"' } }), c);
    await expect(fetch(MCP)).rejects.toMatchObject({ code: 'ssrf_blocked' });
    expect(net.deliveries).toHaveLength(0);
  });

  it('F-4 defineProtectedResource with a non-cloneable / non-JSON extra → ConfigurationError, not DOMException', () => {
    for (const extra of [{ f: () => 1 }, { s: Symbol('x') }, { b: 10n }]) {
      expect(() => defineProtectedResource({ resource: MCP, authorizationServers: ['https://as.example.com'], extra } as never)).toThrow(ConfigurationError);
    }
  });
});
