import { describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '@portcullis/token-verification';
import { defineProtectedResource, sameResource, type ProtectedResourceOptions } from '../src/index.js';

const AS = 'https://auth.example.com';

describe('defineProtectedResource', () => {
  it('S-05 S-25: canonicalises the resource and derives the path-inserted metadata URL', () => {
    const r = defineProtectedResource({ resource: 'HTTPS://MCP.Example.COM/mcp', authorizationServers: [AS] });
    expect(r.resource).toBe('https://mcp.example.com/mcp');
    expect(r.metadataUrl).toBe('https://mcp.example.com/.well-known/oauth-protected-resource/mcp');
    expect(r.metadataPaths).toEqual(['/.well-known/oauth-protected-resource/mcp']);
    expect(r.document.resource).toBe('https://mcp.example.com/mcp');
  });

  it('S-25: a resource without a path has no trailing slash and is served at the root', () => {
    const r = defineProtectedResource({ resource: 'https://mcp.example.com/', authorizationServers: [AS] });
    expect(r.resource).toBe('https://mcp.example.com');
    expect(r.metadataUrl).toBe('https://mcp.example.com/.well-known/oauth-protected-resource');
    expect(r.metadataPaths).toEqual(['/.well-known/oauth-protected-resource']);
  });

  it('C-08: an issuer is published as written, so one that URL parsing would repair is refused', () => {
    for (const issuer of [' https://auth.example.com', 'https://auth.exa\tmple.com', 'https:\\\\auth.example.com', 'https:auth.example.com', 'https://auth.example.com/a/../t']) {
      expect(() => defineProtectedResource({ resource: 'https://mcp.example.com/mcp', authorizationServers: [issuer] })).toThrow(/not written as a URL/);
    }
    for (const issuer of ['https://auth.example.com', 'https://auth.example.com/', 'https://Auth.Example.com/tenant', 'https://kc.example.com:443/realms/x']) {
      expect(defineProtectedResource({ resource: 'https://mcp.example.com/mcp', authorizationServers: [issuer] }).authorizationServers).toEqual([issuer]);
    }
  });

  it('S-04 a resource whose path ends in / is also served where clients look, without the slash', async () => {
    const r = defineProtectedResource({ resource: 'https://mcp.example.com/mcp/', authorizationServers: [AS] });
    expect(r.resource).toBe('https://mcp.example.com/mcp/');
    expect(r.metadataPaths).toEqual(['/.well-known/oauth-protected-resource/mcp/', '/.well-known/oauth-protected-resource/mcp']);
  });

  it('S-11 S-25 sameResource: what parsing normalises names the same resource, what it repairs does not', () => {
    const mcp = 'https://mcp.example.com/mcp';
    for (const same of ['HTTPS://MCP.example.com/mcp', 'https://mcp.example.com:443/mcp']) {
      expect([same, sameResource(same, mcp)]).toEqual([same, true]);
    }
    expect(sameResource('https://[0:0:0:0:0:0:0:1]:8443/mcp', 'https://[::1]:8443/mcp')).toBe(true);
    expect(sameResource('https://bücher.example/mcp', 'https://xn--bcher-kva.example/mcp')).toBe(true);
    for (const other of ['https://mcp.example.com/x/../mcp', 'https://mcp.example.com/x/%2E%2e/mcp', 'https://mcp.example.com/./mcp', ` ${mcp}`, `${mcp}\n`, 'https:\\mcp.example.com\\mcp', 'https:mcp.example.com/mcp']) {
      expect([other, sameResource(other, mcp)]).toEqual([other, false]);
    }
  });

  it('S-04: serveAtRoot adds the root well-known path', () => {
    const r = defineProtectedResource({ resource: 'https://mcp.example.com/mcp', authorizationServers: [AS], serveAtRoot: true });
    expect(r.metadataPaths).toEqual(['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']);
  });

  it('S-02 S-03: builds the RFC 9728 document with every configured field and header-only bearer methods', () => {
    const r = defineProtectedResource({
      resource: 'https://mcp.example.com/mcp',
      authorizationServers: [AS, 'https://other.example.com/tenant'],
      scopesSupported: ['mcp:tools', 'mcp:tools'],
      resourceName: 'Example MCP',
      resourceDocumentation: 'https://docs.example.com/mcp',
      extra: { tls_client_certificate_bound_access_tokens: false },
    });
    expect(r.document).toEqual({
      resource: 'https://mcp.example.com/mcp',
      authorization_servers: ['https://auth.example.com', 'https://other.example.com/tenant'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:tools'],
      resource_name: 'Example MCP',
      resource_documentation: 'https://docs.example.com/mcp',
      tls_client_certificate_bound_access_tokens: false,
    });
    expect(Object.isFrozen(r.document)).toBe(true);
    expect(Object.isFrozen(r.document.authorization_servers)).toBe(true);
  });

  it('C-08 RFC 8414 §3.3: publishes each issuer exactly as configured, a trailing slash included', () => {
    const mcp = defineProtectedResource({
      resource: 'https://mcp.example.com/mcp',
      authorizationServers: ['https://tenant.auth.example/', 'https://auth.example.com', 'https://auth.example.com/realms/a'],
    });
    expect(mcp.document.authorization_servers).toEqual(['https://tenant.auth.example/', 'https://auth.example.com', 'https://auth.example.com/realms/a']);
  });

  it('allows plain http only for loopback hosts', () => {
    for (const resource of ['http://127.0.0.1:3000/mcp', 'http://localhost:3000/mcp', 'http://[::1]:3000/mcp']) {
      expect(defineProtectedResource({ resource, authorizationServers: ['http://127.0.0.1:9000'] }).resource).toBe(resource);
    }
  });

  const invalid: [string, Partial<ProtectedResourceOptions> & Record<string, unknown>, string, RegExp][] = [
    ['relative resource', { resource: '/mcp' }, 'ERR_INVALID_URL', /^resource must be an absolute URL/],
    ['non-http scheme', { resource: 'ftp://mcp.example.com/mcp' }, 'ERR_INVALID_URL', /^resource must use https/],
    ['http on a public host (S-23)', { resource: 'http://mcp.example.com/mcp' }, 'ERR_INSECURE_URL', /^resource must use https/],
    ['fragment', { resource: 'https://mcp.example.com/mcp#x' }, 'ERR_INVALID_URL', /^resource must not contain a fragment/],
    ['empty fragment', { resource: 'https://mcp.example.com/mcp#' }, 'ERR_INVALID_URL', /fragment/],
    ['query', { resource: 'https://mcp.example.com/mcp?tenant=1' }, 'ERR_INVALID_URL', /^resource must not contain a query/],
    ['credentials', { resource: 'https://u:p@mcp.example.com/mcp' }, 'ERR_INVALID_URL', /credentials/],
    ['no authorization server (S-03)', { authorizationServers: [] }, 'ERR_NO_AUTHORIZATION_SERVER', /authorizationServers must list at least one/],
    ['insecure authorization server', { authorizationServers: ['http://auth.example.com'] }, 'ERR_INSECURE_URL', /^authorizationServers\[0\] must use https/],
    ['issuer with query', { authorizationServers: [AS, 'https://a.example.com?x=1'] }, 'ERR_INVALID_URL', /^authorizationServers\[1\]/],
    ['scope with a space', { scopesSupported: ['a b'] }, 'ERR_INVALID_SCOPES', /^scopesSupported contains "a b"/],
    ['scope with a quote', { scopesSupported: ['a"b'] }, 'ERR_INVALID_SCOPES', /not a valid scope token/],
    ['offline_access advertised (S-09)', { scopesSupported: ['mcp:tools', 'offline_access'] }, 'ERR_INVALID_SCOPES', /offline_access/],
    ['query bearer method (S-26)', { bearerMethodsSupported: ['query' as 'header'] }, 'ERR_INVALID_BEARER_METHODS', /bearerMethodsSupported/],
    ['bad documentation URL', { resourceDocumentation: 'docs' }, 'ERR_INVALID_URL', /^resourceDocumentation/],
    ['extra redefines resource', { extra: { resource: 'https://evil.example' } }, 'ERR_INVALID_OPTIONS', /^extra\.resource/],
    ['extra sets signed_metadata', { extra: { signed_metadata: 'x' } }, 'ERR_INVALID_OPTIONS', /signedMetadata/],
    ['snake_case option', { scopes_supported: ['a'] }, 'ERR_UNKNOWN_OPTION', /did you mean "scopesSupported"/],
  ];
  it.each(invalid)('rejects %s with a ConfigurationError naming the option', (_name, override, code, message) => {
    const options = { resource: 'https://mcp.example.com/mcp', authorizationServers: [AS], ...override } as ProtectedResourceOptions;
    let error: unknown;
    try {
      defineProtectedResource(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as ConfigurationError).code).toBe(code);
    expect((error as Error).message).toMatch(message);
  });
});
