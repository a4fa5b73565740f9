import { describe, expect, it } from '@jest/globals';
import { McpOAuthError } from '../src/errors.js';
import { parseWwwAuthenticate, readResourceChallenge, type AuthChallenge } from '../src/www-authenticate.js';

type Row = [title: string, header: string, expected: Array<Pick<AuthChallenge, 'scheme' | 'params'> & { token68?: string }>];

const valid: Row[] = [
  ['bare scheme', 'Bearer', [{ scheme: 'Bearer', params: {} }]],
  ['one token param', 'Bearer realm=example', [{ scheme: 'Bearer', params: { realm: 'example' } }]],
  [
    'MCP 401 with resource_metadata and scope (C-03, S-06)',
    'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="files:read files:write"',
    [{ scheme: 'Bearer', params: { resource_metadata: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp', scope: 'files:read files:write' } }],
  ],
  [
    'params in any order, names case-insensitive',
    'Bearer SCOPE="a", Error=insufficient_scope, resource_metadata="u"',
    [{ scheme: 'Bearer', params: { scope: 'a', error: 'insufficient_scope', resource_metadata: 'u' } }],
  ],
  ['quoted string with escapes', 'Bearer error_description="say \\"hi\\" \\\\ now"', [{ scheme: 'Bearer', params: { error_description: 'say "hi" \\ now' } }]],
  ['comma inside a quoted string', 'Bearer scope="a,b", realm="x"', [{ scheme: 'Bearer', params: { scope: 'a,b', realm: 'x' } }]],
  ['BWS around "="', 'Bearer realm = "x" ,  scope= y', [{ scheme: 'Bearer', params: { realm: 'x', scope: 'y' } }]],
  [
    'several challenges',
    'Basic realm="simple", Bearer realm="mcp", error="invalid_token", DPoP algs="ES256 PS256"',
    [
      { scheme: 'Basic', params: { realm: 'simple' } },
      { scheme: 'Bearer', params: { realm: 'mcp', error: 'invalid_token' } },
      { scheme: 'DPoP', params: { algs: 'ES256 PS256' } },
    ],
  ],
  ['challenge without params between others', 'Negotiate, Bearer realm="x"', [{ scheme: 'Negotiate', params: {} }, { scheme: 'Bearer', params: { realm: 'x' } }]],
  ['token68', 'Negotiate abc+/def==', [{ scheme: 'Negotiate', params: {}, token68: 'abc+/def==' }]],
  ['token68 then another challenge', 'Newauth abc=, Bearer', [{ scheme: 'Newauth', params: {}, token68: 'abc=' }, { scheme: 'Bearer', params: {} }]],
  ['empty list elements (headers joined by commas)', ' , Bearer realm="a" ,, , Basic ,', [{ scheme: 'Bearer', params: { realm: 'a' } }, { scheme: 'Basic', params: {} }]],
  ['empty quoted value', 'Bearer scope=""', [{ scheme: 'Bearer', params: { scope: '' } }]],
  ['unicode in quoted string', 'Bearer error_description="caf\u00e9"', [{ scheme: 'Bearer', params: { error_description: 'caf\u00e9' } }]],
];

const malformed: Array<[title: string, header: string]> = [
  ['empty', ''],
  ['only commas', ' , ,'],
  ['param without scheme', 'realm="x"'],
  ['unterminated quoted string', 'Bearer realm="x'],
  ['escape at end', 'Bearer realm="x\\'],
  ['missing value', 'Bearer realm=, scope="a"'],
  ['missing "="', 'Bearer realm "x"'],
  ['duplicate parameter', 'Bearer realm="a", realm="b"'],
  ['garbage after quoted value', 'Bearer realm="a"b'],
  ['two bare words', 'Bearer abc def'],
  ['control character in quoted string', 'Bearer realm="a\u0001b"'],
  ['non-token scheme', '"Bearer" realm=x'],
  ['lone equals', '='],
];

describe('parseWwwAuthenticate (RFC 7235 §2.1, C-03)', () => {
  it.each(valid)('C-03 parses %s', (_title, header, expected) => {
    const parsed = parseWwwAuthenticate(header);
    expect(parsed.map((c) => ({ scheme: c.scheme, params: c.params, ...(c.token68 !== undefined && { token68: c.token68 }) }))).toEqual(expected);
  });

  it.each(malformed)('C-03 rejects %s with a typed error', (_title, header) => {
    expect(() => parseWwwAuthenticate(header)).toThrow(McpOAuthError);
    try {
      parseWwwAuthenticate(header);
    } catch (error) {
      expect((error as McpOAuthError).code).toBe('invalid_challenge');
    }
  });

  it('never crashes or hangs on arbitrary input', () => {
    const alphabet = ['Bearer', ' ', ',', '=', '"', '\\', 'a', 'realm', '\t', '==', 'x"y'];
    let seed = 7;
    for (let i = 0; i < 3000; i++) {
      let header = '';
      for (let j = 0; j < 12; j++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        header += alphabet[seed % alphabet.length];
      }
      try {
        parseWwwAuthenticate(header);
      } catch (error) {
        expect(error).toBeInstanceOf(McpOAuthError);
      }
    }
  });
});

describe('readResourceChallenge', () => {
  it('X-12 RFC 9449 §7.1 names every scheme of the two that the header offers', () => {
    expect(readResourceChallenge('Bearer resource_metadata="https://r/m", DPoP algs="ES256"')).toMatchObject({ scheme: 'bearer', schemes: ['bearer', 'dpop'] });
    expect(readResourceChallenge('DPoP algs="ES256"')).toMatchObject({ scheme: 'dpop', schemes: ['dpop'] });
  });

  it('C-19 picks the Bearer challenge and splits its scope', () => {
    expect(readResourceChallenge('Basic realm="x", Bearer error="insufficient_scope", scope="a  b", resource_metadata="https://r/.well-known/oauth-protected-resource"')).toEqual({
      scheme: 'bearer',
      schemes: ['bearer'],
      error: 'insufficient_scope',
      scopes: ['a', 'b'],
      resourceMetadata: 'https://r/.well-known/oauth-protected-resource',
      params: { error: 'insufficient_scope', scope: 'a  b', resource_metadata: 'https://r/.well-known/oauth-protected-resource' },
    });
  });
  it('falls back to a DPoP challenge', () => {
    expect(readResourceChallenge('DPoP algs="ES256"')?.scheme).toBe('dpop');
  });
  it('returns undefined without a header or a Bearer/DPoP challenge', () => {
    expect(readResourceChallenge(null)).toBeUndefined();
    expect(readResourceChallenge('Basic realm="x"')).toBeUndefined();
  });
});
