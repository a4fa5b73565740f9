/**
 * Property-based fuzzing (fast-check), 10,000 runs per property, all in-process and pure (no
 * network): the client's `WWW-Authenticate` parser, bearer-auth's token extractor, the RFC 9728
 * configuration validator, and URL canonicalisation on both sides. Properties: no throw other than
 * our typed errors, and what is returned keeps the invariants the callers rely on. A hang would fail
 * by the Jest timeout.
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { McpOAuthError, canonicalServerUrl, parseWwwAuthenticate, protectedResourceMetadataUrls, readResourceChallenge, resourceMatchesServer } from '@portcullis/mcp-oauth-client';
import { extractBearerToken } from '@portcullis/bearer-auth';
import { canonicalResource, defineProtectedResource, sameResource, validateScopes } from '@portcullis/protected-resource-metadata';
import { ConfigurationError, InvalidRequestError, MissingCredentialsError } from '@portcullis/token-verification';

const RUNS = { numRuns: 10_000 };
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Runs `fn`; returns its value, or the error when it is one of `allowed` (anything else fails the property). */
function onlyTyped<T>(fn: () => T, ...allowed: (abstract new (...args: never[]) => Error)[]): { value?: T; error?: Error } {
  try {
    return { value: fn() };
  } catch (error) {
    if (allowed.some((type) => error instanceof type)) return { error: error as Error };
    throw error;
  }
}

// Characters a header value can carry (Node passes latin1 through), weighted towards the syntax.
const headerChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'Bearer basic DPoP realm scope error resource_metadata = , " \\ \t'.split('')) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)) },
);
const headerText = fc.array(headerChar, { maxLength: 80 }).map((cs) => cs.join(''));

// Structured challenges: schemes, params, quoted strings with escapes, token68, stray separators.
const tchars = fc.string({ unit: fc.constantFrom(...'abcXYZ019!#$%&\'*+-.^_`|~'.split('')), minLength: 0, maxLength: 8 });
const quoted = fc.string({ unit: fc.constantFrom(...'ab "\\,=\t\x01é'.split('')), maxLength: 10 }).map((v) => `"${v}"`);
const param = fc.tuple(tchars, fc.constantFrom('=', ' =', '= ', ''), fc.oneof(tchars, quoted)).map(([n, eq, v]) => `${n}${eq}${v}`);
const challenge = fc.tuple(tchars, fc.constantFrom(' ', '  ', '\t', ''), fc.oneof(fc.array(param, { maxLength: 4 }).map((ps) => ps.join(fc.sample(fc.constantFrom(',', ', ', ' ,', ',,'), 1)[0]!)), fc.stringMatching(/^[A-Za-z0-9\-._~+/]{0,8}={0,2}$/)));
const challenges = fc.array(challenge.map(([s, sp, rest]) => `${s}${sp}${rest}`), { minLength: 0, maxLength: 3 }).map((cs) => cs.join(', '));

describe('fuzz: WWW-Authenticate parser (client, C-03)', () => {
  it('parseWwwAuthenticate: challenges with a token scheme and string params, or McpOAuthError invalid_challenge — on random text', () => {
    fc.assert(
      fc.property(fc.oneof(headerText, challenges), (header) => {
        const { value, error } = onlyTyped(() => parseWwwAuthenticate(header), McpOAuthError);
        if (error) {
          expect((error as McpOAuthError).code).toBe('invalid_challenge');
          return;
        }
        expect(value!.length).toBeGreaterThan(0);
        for (const c of value!) {
          expect(c.scheme).toMatch(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
          expect(c.schemeLower).toBe(c.scheme.toLowerCase());
          for (const [name, v] of Object.entries(c.params)) {
            expect(name).toBe(name.toLowerCase());
            expect(typeof v).toBe('string');
            expect(v).not.toMatch(/[\r\n\0]/);
          }
        }
      }),
      RUNS,
    );
  });

  it('readResourceChallenge: a Bearer/DPoP view, undefined, or invalid_challenge — never another throw', () => {
    fc.assert(
      fc.property(fc.oneof(headerText, challenges, fc.constant(''), fc.constant('   ')), (header) => {
        const { value, error } = onlyTyped(() => readResourceChallenge(header), McpOAuthError);
        if (error) return expect((error as McpOAuthError).code).toBe('invalid_challenge');
        if (value === undefined) return;
        expect(['bearer', 'dpop']).toContain(value.scheme);
        if (value.scopes) for (const s of value.scopes) expect(s).not.toMatch(/ /);
      }),
      RUNS,
    );
  });
});

describe('fuzz: bearer token extraction (bearer-auth, RFC 6750 §2)', () => {
  const headerName = fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION', 'Authorisation', 'X-Authorization', 'Proxy-Authorization');
  const authValue = fc.oneof(
    headerText,
    fc.tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'DPoP', 'Bearer,'), fc.constantFrom(' ', '  ', '\t', ''), fc.oneof(fc.stringMatching(/^[A-Za-z0-9\-._~+/]{0,20}={0,2}$/), headerText)).map(([s, sp, t]) => `${s}${sp}${t}`),
  );
  const query = fc.oneof(fc.constant(''), fc.constantFrom('?access_token=x', '?a=1&access_token=', '?access%5Ftoken=x', '?ACCESS_TOKEN=x', '?x=access_token'), headerText.map((q) => `?${encodeURI(q)}`));
  const body = fc.option(fc.record({ type: fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8'), access: fc.boolean() }), { nil: undefined });

  it('returns a token68 string from the one Authorization header, or throws InvalidRequestError / MissingCredentialsError', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(headerName, authValue), { maxLength: 3 }), query, body, fc.integer({ min: 1, max: 64 }), (headers, q, form, maxLength) => {
        // A real IncomingMessage (no socket traffic), with headers laid out as Node's parser does.
        const req = new IncomingMessage(new Socket());
        req.url = `/mcp${q}`;
        req.method = 'POST';
        const rawHeaders: string[] = [];
        const parsed: Record<string, string> = {};
        for (const [name, value] of headers) {
          rawHeaders.push(name, value);
          parsed[name.toLowerCase()] ??= value;
        }
        if (form) {
          rawHeaders.push('Content-Type', form.type);
          parsed['content-type'] = form.type;
          (req as IncomingMessage & { body?: unknown }).body = form.access ? { access_token: 'x' } : { other: 1 };
        }
        req.rawHeaders = rawHeaders;
        req.headers = parsed;
        const { value, error } = onlyTyped(() => extractBearerToken(req, maxLength), InvalidRequestError, MissingCredentialsError);
        if (error) return;
        const authorizations = headers.filter(([name]) => name.toLowerCase() === 'authorization');
        expect(authorizations).toHaveLength(1);
        expect(value).toMatch(TOKEN68);
        expect(authorizations[0]![1].length).toBeLessThanOrEqual(maxLength);
        expect(authorizations[0]![1]).toContain(value!);
        expect(new URLSearchParams(q.slice(1)).has('access_token')).toBe(false);
      }),
      RUNS,
    );
  });
});

describe('fuzz: protected resource configuration (RFC 9728 §2)', () => {
  const url = fc.oneof(
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.constantFrom('http://127.0.0.1:3000/mcp', 'http://localhost/mcp', 'http://[::1]/', 'https://A.EXAMPLE/', 'javascript:alert(1)', 'file:///etc/passwd', 'https://u:p@a.example/', '', 'mcp'),
    headerText,
  );
  const scopes = fc.array(fc.oneof(fc.constantFrom('mcp:tools', 'offline_access', 'a b', 'x"y', 'é', ''), fc.string({ maxLength: 6 }), fc.anything()), { maxLength: 4 });
  const options = fc.record(
    {
      resource: fc.oneof(url, fc.anything()),
      authorizationServers: fc.oneof(fc.array(url, { maxLength: 3 }), fc.anything()),
      scopesSupported: fc.oneof(scopes, fc.anything()),
      resourceName: fc.oneof(fc.string(), fc.anything()),
      resourceDocumentation: url,
      bearerMethodsSupported: fc.oneof(fc.constant(['header']), fc.array(fc.constantFrom('header', 'query', 'body'))),
      extra: fc.oneof(fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('resource', 'signed_metadata', '__proto__')), fc.jsonValue({ maxDepth: 2 })), fc.anything({ maxDepth: 1 })),
      serveAtRoot: fc.anything(),
      resource_name: fc.string(),
    },
    { requiredKeys: [] },
  );

  it('defineProtectedResource: a consistent frozen resource, or ConfigurationError — on random options', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 5, arbitrary: options }, { weight: 1, arbitrary: fc.anything() }), (input) => {
        const { value } = onlyTyped(() => defineProtectedResource(input as never), ConfigurationError);
        if (!value) return;
        const resource = new URL(value.resource);
        expect(['https:', 'http:']).toContain(resource.protocol);
        expect(resource.hash).toBe('');
        expect(value.document.resource).toBe(value.resource);
        expect(value.authorizationServers.length).toBeGreaterThan(0);
        expect(value.metadataUrl.startsWith(`${resource.origin}/.well-known/oauth-protected-resource`)).toBe(true);
        expect(value.document.scopes_supported ?? []).not.toContain('offline_access');
        expect(value.document.bearer_methods_supported).toEqual(['header']);
        expect(Object.isFrozen(value.document)).toBe(true);
      }),
      RUNS,
    );
  });

  it('validateScopes: RFC 6749 §3.3 scope tokens only, or ConfigurationError', () => {
    fc.assert(
      fc.property(fc.oneof(scopes, fc.anything()), fc.boolean(), (input, advertised) => {
        const { value } = onlyTyped(() => validateScopes(input, 'scopes', { advertised }), ConfigurationError);
        if (!value) return;
        for (const s of value) expect(s).toMatch(/^[\x21\x23-\x5b\x5d-\x7e]+$/);
        if (advertised) expect(value).not.toContain('offline_access');
      }),
      RUNS,
    );
  });
});

describe('fuzz: URL canonicalisation (S-25, C-26, C-04)', () => {
  const webUrl = fc.webUrl({ withQueryParameters: true, withFragments: true, validSchemes: ['https', 'http'] });
  const anyString = fc.oneof(webUrl, headerText, fc.constantFrom('https://A.example:443/', 'HTTPS://a.example', 'https://a.example/mcp/', 'https://a.example/%6Dcp'));

  it('canonicalResource / canonicalServerUrl: never throw on parsed URLs, idempotent, no lone trailing slash; canonicalServerUrl drops query and fragment', () => {
    fc.assert(
      fc.property(webUrl, (text) => {
        const url = new URL(text);
        const once = canonicalResource(url);
        expect(canonicalResource(new URL(once))).toBe(once);
        if (url.pathname === '/' && !url.search) expect(once).toBe(url.origin);
        const server = canonicalServerUrl(url);
        expect(canonicalServerUrl(server)).toBe(server);
        expect(new URL(server).search).toBe('');
        expect(new URL(server).hash).toBe('');
        // As serialised: a string that parsing repairs (an empty `#`, dot segments) names nothing (S-11).
        expect(sameResource(url.href, once)).toBe(true);
      }),
      RUNS,
    );
  });

  it('S-04 C-02 the first metadata URL our client tries for a server is one the server\'s own resource is served at', () => {
    fc.assert(
      fc.property(fc.webUrl({ validSchemes: ['https'] }), (text) => {
        const url = new URL(text);
        url.hash = '';
        url.search = '';
        const served = defineProtectedResource({ resource: url.href, authorizationServers: ['https://as.example'] }).metadataPaths;
        expect(served).toContain(protectedResourceMetadataUrls(url)[0]!.pathname);
      }),
      RUNS,
    );
  });

  it('sameResource and resourceMatchesServer never throw on arbitrary strings; sameResource is symmetric; a match is always same-origin', () => {
    fc.assert(
      fc.property(anyString, anyString, webUrl, (a, b, server) => {
        expect(sameResource(a, b)).toBe(sameResource(b, a));
        const serverUrl = new URL(server);
        if (resourceMatchesServer(a, serverUrl)) expect(new URL(a).origin).toBe(serverUrl.origin);
        for (const u of protectedResourceMetadataUrls(serverUrl)) expect(u.origin).toBe(serverUrl.origin);
      }),
      RUNS,
    );
  });
});
