import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { assertAuthorizationUrl, buildAuthorizationRequest, validateAuthorizationResponse, type PendingAuthorization } from '../src/authorization.js';
import type { AuthorizationServerMetadata } from '../src/discovery.js';
import { McpOAuthError } from '../src/errors.js';

const ISSUER = 'https://as.example.com';
const meta = (extra: Partial<AuthorizationServerMetadata> = {}): AuthorizationServerMetadata => ({
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/authorize`,
  token_endpoint: `${ISSUER}/token`,
  code_challenge_methods_supported: ['S256'],
  ...extra,
});

async function pendingFor(as: AuthorizationServerMetadata): Promise<PendingAuthorization> {
  return (await buildAuthorizationRequest({ authorizationServer: as, clientId: 'c1', redirectUri: 'http://127.0.0.1:9/cb', resource: 'https://mcp.example.com' })).pending;
}
function callback(params: Record<string, string>): URL {
  const url = new URL('http://127.0.0.1:9/cb');
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url;
}
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(McpOAuthError);
    return (error as McpOAuthError).code;
  }
}

describe('buildAuthorizationRequest', () => {
  it('C-25 C-27 C-30 sends S256 PKCE, state, resource verbatim and no scope when none (C-19)', async () => {
    const { url, pending } = await buildAuthorizationRequest({ authorizationServer: meta(), clientId: 'c1', redirectUri: 'http://127.0.0.1:9/cb', resource: 'https://mcp.example.com' });
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toBe(pending.state);
    expect(url.searchParams.get('resource')).toBe('https://mcp.example.com');
    expect(url.searchParams.has('scope')).toBe(false);
    expect(pending.issuer).toBe(ISSUER); // C-31
  });
  it.each([
    ['absent', undefined],
    ['plain only', ['plain']],
  ])('C-28 refuses an AS whose code_challenge_methods_supported is %s', async (_t, methods) => {
    const as = meta();
    const withMethods = methods === undefined ? { ...as, code_challenge_methods_supported: undefined } : { ...as, code_challenge_methods_supported: methods };
    await expect(buildAuthorizationRequest({ authorizationServer: withMethods as AuthorizationServerMetadata, clientId: 'c', redirectUri: 'http://127.0.0.1/cb', resource: 'r' })).rejects.toMatchObject({ code: 'pkce_unsupported' });
  });
  it.each(['javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'vbscript:x', 'http://as.example.com/authorize'])('C-48 C-50 refuses authorization endpoint %s', (endpoint) => {
    expect(codeOf(() => assertAuthorizationUrl(new URL(endpoint), true))).toBe('invalid_url');
  });
  it('C-48 C-50 allows loopback http only with allowInsecureLoopback', () => {
    expect(codeOf(() => assertAuthorizationUrl(new URL('http://127.0.0.1:3000/authorize'), false))).toBe('invalid_url');
    expect(codeOf(() => assertAuthorizationUrl(new URL('http://127.0.0.1:3000/authorize'), true))).toBeUndefined();
  });
});

describe('validateAuthorizationResponse: RFC 9207 four-row rule, then state, then error', () => {
  it.each([
    ['C-32 conf:auth/iss-supported: advertised and present and equal → accepted', true, { iss: ISSUER }, undefined],
    ['C-32 conf:auth/iss-supported-missing: advertised and absent → rejected', true, {}, 'iss_mismatch'],
    ['C-32 conf:auth/iss-unexpected: not advertised but present and equal → accepted', false, { iss: ISSUER }, undefined],
    ['C-32 conf:auth/iss-wrong-issuer: not advertised, present and different → rejected', false, { iss: 'https://evil.example.com' }, 'iss_mismatch'],
    ['C-32 conf:auth/iss-not-advertised: neither → accepted', false, {}, undefined],
    ['C-33 conf:auth/iss-normalized: trailing slash is not normalized', true, { iss: `${ISSUER}/` }, 'iss_mismatch'],
    ['C-33 upper-case host is not normalized', true, { iss: 'https://AS.example.com' }, 'iss_mismatch'],
    ['C-33 default port is not normalized', true, { iss: 'https://as.example.com:443' }, 'iss_mismatch'],
    ['C-32 not advertised, present and empty → rejected (present is compared)', false, { iss: '' }, 'iss_mismatch'],
    ['C-32 advertised, present and empty → rejected', true, { iss: '' }, 'iss_mismatch'],
  ])('%s', async (_title, advertised, params, expected) => {
    const as = meta({ authorization_response_iss_parameter_supported: advertised });
    const pending = await pendingFor(as);
    expect(codeOf(() => validateAuthorizationResponse(as, pending, callback({ code: 'abc', state: pending.state, ...params })))).toBe(expected);
  });

  it('C-34 an iss mismatch wins over error: error and error_description are not acted on', async () => {
    const as = meta({ authorization_response_iss_parameter_supported: true });
    const pending = await pendingFor(as);
    let caught: McpOAuthError | undefined;
    try {
      validateAuthorizationResponse(as, pending, callback({ error: 'access_denied', error_description: 'click evil.example', state: pending.state, iss: 'https://evil.example.com' }));
    } catch (error) {
      caught = error as McpOAuthError;
    }
    expect(caught?.code).toBe('iss_mismatch');
    expect(caught?.oauthError).toBeUndefined();
    expect(caught?.message).not.toContain('click evil.example');
  });

  it.each([
    ['missing', {}],
    ['different', { state: 'attacker-state' }],
  ])('C-30 rejects a %s state', async (_title, params) => {
    const as = meta();
    const pending = await pendingFor(as);
    expect(codeOf(() => validateAuthorizationResponse(as, pending, callback({ code: 'abc', ...params })))).toBe('state_mismatch');
  });

  it('reports an AS error (after iss and state pass) as authorization_denied with the OAuth error code', async () => {
    const as = meta();
    const pending = await pendingFor(as);
    let caught: McpOAuthError | undefined;
    try {
      validateAuthorizationResponse(as, pending, callback({ error: 'access_denied', state: pending.state }));
    } catch (error) {
      caught = error as McpOAuthError;
    }
    expect(caught?.code).toBe('authorization_denied');
    expect(caught?.oauthError).toBe('access_denied');
  });

  it.each([
    ['state', (state: string) => ({ state: `${state}x` })],
    ['issuer', (state: string) => ({ state, iss: 'https://evil.example.com' })],
    ['parameters', (state: string) => ({ state, response: 'jarm-not-expected' })],
  ])('S-22 C-38 a callback refused for its %s keeps its code out of the error, cause included', async (_title, params) => {
    const as = meta();
    const pending = await pendingFor(as);
    let caught: unknown;
    try {
      validateAuthorizationResponse(as, pending, callback({ code: 'SECRET-CODE-123', ...params(pending.state) }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(McpOAuthError);
    expect(inspect(caught, { depth: 10, showHidden: true })).not.toContain('SECRET-CODE-123');
  });

  it('returns the code parameters when everything checks out', async () => {
    const as = meta();
    const pending = await pendingFor(as);
    expect(validateAuthorizationResponse(as, pending, callback({ code: 'abc', state: pending.state })).get('code')).toBe('abc');
  });
});
