import { describe, expect, it } from '@jest/globals';
import { formatBearerChallenge, type BearerChallenge } from '../src/index.js';

const RM = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';

describe('formatBearerChallenge: the one place a challenge is written', () => {
  const table: [string, BearerChallenge, string][] = [
    ['S-16 L-04: no credentials: resource_metadata only, no error', { resourceMetadata: RM }, `Bearer resource_metadata="${RM}"`],
    [
      'S-06: no credentials with scope',
      { resourceMetadata: RM, scope: ['mcp:tools', 'files:read'] },
      `Bearer scope="mcp:tools files:read", resource_metadata="${RM}"`,
    ],
    ['empty scope list is omitted', { resourceMetadata: RM, scope: [] }, `Bearer resource_metadata="${RM}"`],
    [
      'S-16: no error code ⇒ no error_description either',
      { resourceMetadata: RM, errorDescription: 'ignored' },
      `Bearer resource_metadata="${RM}"`,
    ],
    [
      'S-14: invalid_token',
      { resourceMetadata: RM, error: 'invalid_token', errorDescription: 'The access token expired' },
      `Bearer error="invalid_token", error_description="The access token expired", resource_metadata="${RM}"`,
    ],
    [
      'S-15: invalid_request',
      { resourceMetadata: RM, error: 'invalid_request', errorDescription: 'Only one Authorization header may be sent' },
      `Bearer error="invalid_request", error_description="Only one Authorization header may be sent", resource_metadata="${RM}"`,
    ],
    [
      'S-17 S-19: insufficient_scope with every needed scope in one challenge',
      { resourceMetadata: RM, error: 'insufficient_scope', errorDescription: 'x', scope: ['a', 'b', 'c'] },
      `Bearer error="insufficient_scope", error_description="x", scope="a b c", resource_metadata="${RM}"`,
    ],
    ['realm first', { resourceMetadata: RM, realm: 'mcp' }, `Bearer realm="mcp", resource_metadata="${RM}"`],
    ['realm quotes and backslashes escaped', { resourceMetadata: RM, realm: 'a"b\\c' }, `Bearer realm="a\\"b\\\\c", resource_metadata="${RM}"`],
    ['realm CR/LF removed (no header injection)', { resourceMetadata: RM, realm: 'a\r\nSet-Cookie: x=1' }, `Bearer realm="aSet-Cookie: x=1", resource_metadata="${RM}"`],
    ['non-ASCII realm made ASCII', { resourceMetadata: RM, realm: 'café ☕' }, `Bearer realm="caf? ?", resource_metadata="${RM}"`],
    [
      'error_description limited to the RFC 6750 §3 set: quote → apostrophe, backslash → slash, non-ASCII → ?',
      { resourceMetadata: RM, error: 'invalid_token', errorDescription: 'bad "kid" \\ é\n' },
      `Bearer error="invalid_token", error_description="bad 'kid' / ??", resource_metadata="${RM}"`,
    ],
    [
      'resource_metadata escaped too',
      { resourceMetadata: 'https://x.example/a"b', error: 'invalid_token', errorDescription: 'd' },
      'Bearer error="invalid_token", error_description="d", resource_metadata="https://x.example/a\\"b"',
    ],
    [
      'every parameter at once',
      { resourceMetadata: RM, realm: 'r', error: 'insufficient_scope', errorDescription: 'd', scope: ['s'] },
      `Bearer realm="r", error="insufficient_scope", error_description="d", scope="s", resource_metadata="${RM}"`,
    ],
  ];
  it.each(table)('%s', (_name, challenge, expected) => {
    expect(formatBearerChallenge(challenge)).toBe(expected);
  });

  it('never produces a header value Node refuses', () => {
    for (const [, challenge] of table) {
      expect(formatBearerChallenge(challenge)).toMatch(/^[\t\x20-\x7e]+$/);
    }
  });
});
