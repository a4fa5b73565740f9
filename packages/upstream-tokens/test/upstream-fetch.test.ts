import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { UpstreamTokenError, upstreamFetch } from '../src/index.js';

// The network is stubbed at the edge: an injected fetch that records what would have been sent.
function recordingFetch(): { fetch: typeof fetch; sent: Headers[] } {
  const sent: Headers[] = [];
  return {
    sent,
    fetch: async (_input, init) => {
      sent.push(new Headers(init?.headers));
      return new Response(null, { status: 204 });
    },
  };
}

describe('upstreamFetch', () => {
  it.each([
    ['a string with a newline', 'SECRET-AT\nx'],
    ['a string with a space', 'SECRET AT'],
    ['an empty string', ''],
    ['a token object with a newline', { accessToken: 'SECRET-AT\r\nx', tokenType: 'Bearer' as const }],
  ])('S-22: a token from getToken that cannot go in a header (%s) is a typed error without the token, and nothing is sent', async (_name, token) => {
    const edge = recordingFetch();
    const error = await upstreamFetch(async () => token, edge.fetch)('https://api.example.com/v1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamTokenError);
    expect(error).toMatchObject({ code: 'invalid_token_response' });
    expect(inspect(error, { depth: 10 })).not.toContain('SECRET');
    expect(edge.sent).toHaveLength(0);
  });

  it('a token with a trailing newline (read from a file) is sent without it, as before', async () => {
    const edge = recordingFetch();
    await upstreamFetch(async () => 'abc123\n', edge.fetch)('https://api.example.com/v1');
    expect(edge.sent[0]!.get('authorization')).toBe('Bearer abc123');
  });
});
