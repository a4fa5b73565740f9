import { McpOAuthError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';
import type { AuthorizationHandler } from './oauth-client.js';
import { isLoopbackHost, type FetchLike } from './safe-fetch.js';

/** Options of {@link createHeadlessAuthorizationHandler}. */
export interface HeadlessAuthorizationOptions {
  /** The fetch to follow redirects with. Default: the client's SSRF-guarded fetch. */
  readonly fetch?: FetchLike;
  /** Redirect hops followed before giving up. Default 20. */
  readonly maxHops?: number;
}

const HEADLESS_AUTHORIZATION_OPTIONS: KnownOptions<HeadlessAuthorizationOptions> = { fetch: true, maxHops: true };

function sameEndpoint(a: URL, b: URL): boolean {
  return a.origin === b.origin && a.pathname === b.pathname;
}

/**
 * An {@link AuthorizationHandler} for headless runs (conformance, CI, an AS that approves without a
 * user): follows the authorization redirects with `fetch`, keeping cookies per origin, and returns
 * the URL it is finally sent to on the redirect URI — without ever requesting that URL.
 */
export function createHeadlessAuthorizationHandler(options: HeadlessAuthorizationOptions = {}): AuthorizationHandler {
  assertKnownOptions(options, HEADLESS_AUTHORIZATION_OPTIONS, 'createHeadlessAuthorizationHandler options');
  const maxHops = options.maxHops ?? 20;
  return async (authorizationUrl, { redirectUri, fetch }) => {
    const send = options.fetch ?? fetch;
    const target = new URL(redirectUri);
    const jar = new Map<string, Map<string, string>>();
    let url = authorizationUrl;
    for (let hop = 0; hop < maxHops; hop++) {
      if (sameEndpoint(url, target)) return url;
      const cookies = jar.get(url.origin);
      const headers: Record<string, string> = {};
      if (cookies?.size) headers['cookie'] = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const response = await send(url, { redirect: 'manual', headers });
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair?.indexOf('=') ?? -1;
        if (!pair || eq <= 0) continue;
        const store = jar.get(url.origin) ?? new Map<string, string>();
        store.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
        jar.set(url.origin, store);
      }
      const location = response.headers.get('location');
      await response.body?.cancel();
      if (response.status < 300 || response.status >= 400 || !location) {
        throw new McpOAuthError('authorization_required', `The authorization flow stopped at ${url.origin}${url.pathname} with HTTP ${response.status}; it needs a user`);
      }
      const next = URL.parse(location, url.href);
      if (!next) throw new McpOAuthError('authorization_required', `The authorization flow at ${url.origin}${url.pathname} redirected to an invalid location`);
      // Each hop is a fetch of its own, so safeFetch's rule is repeated here: a remote server may
      // not bounce the client onto this machine (C-44, C-45), except to the redirect URI itself,
      // which is returned, never requested.
      if (!sameEndpoint(next, target) && isLoopbackHost(next) && !isLoopbackHost(url)) {
        throw new McpOAuthError('ssrf_blocked', `Refusing a redirect from ${url.origin} to the loopback host ${next.origin}`);
      }
      url = next;
    }
    throw new McpOAuthError('authorization_required', `The authorization flow did not reach the redirect URI in ${maxHops} hops`);
  };
}
