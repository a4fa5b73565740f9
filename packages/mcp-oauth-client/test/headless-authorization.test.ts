import { describe, expect, it } from '@jest/globals';
import { createHeadlessAuthorizationHandler } from '../src/headless-authorization.js';
import type { FetchLike } from '../src/safe-fetch.js';

const REDIRECT_URI = 'http://127.0.0.1:8765/callback';

/** The network edge: each URL answers with a redirect to the next; every request is recorded. */
function redirects(hops: Record<string, string>) {
  const requested: string[] = [];
  const fetch: FetchLike = async (input) => {
    const url = String(input);
    requested.push(url);
    const location = hops[url];
    return location === undefined ? new Response('no', { status: 404 }) : new Response(null, { status: 302, headers: { location } });
  };
  return { fetch, requested };
}

describe('createHeadlessAuthorizationHandler', () => {
  it('returns the callback on the redirect URI without requesting it', async () => {
    const { fetch, requested } = redirects({
      'https://as.example/authorize': 'https://as.example/consent',
      'https://as.example/consent': `${REDIRECT_URI}?code=c&state=s`,
    });
    const callback = await createHeadlessAuthorizationHandler()(new URL('https://as.example/authorize'), { redirectUri: REDIRECT_URI, fetch });
    expect(String(callback)).toBe(`${REDIRECT_URI}?code=c&state=s`);
    expect(requested).toEqual(['https://as.example/authorize', 'https://as.example/consent']);
  });

  it('C-44 C-46 refuses a remote hop onto another loopback URL (ssrf_blocked) and never requests it', async () => {
    const { fetch, requested } = redirects({ 'https://as.example/authorize': 'http://127.0.0.1:6379/internal' });
    await expect(createHeadlessAuthorizationHandler()(new URL('https://as.example/authorize'), { redirectUri: REDIRECT_URI, fetch })).rejects.toMatchObject({
      code: 'ssrf_blocked',
    });
    expect(requested).toEqual(['https://as.example/authorize']);
  });

  it('follows loopback hops of a loopback (development) authorization server', async () => {
    const { fetch } = redirects({
      'http://127.0.0.1:9000/authorize': 'http://127.0.0.1:9000/interaction/1',
      'http://127.0.0.1:9000/interaction/1': `${REDIRECT_URI}?code=c&state=s`,
    });
    const callback = await createHeadlessAuthorizationHandler()(new URL('http://127.0.0.1:9000/authorize'), { redirectUri: REDIRECT_URI, fetch });
    expect(new URL(String(callback)).searchParams.get('code')).toBe('c');
  });
});
