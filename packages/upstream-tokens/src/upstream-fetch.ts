import type { UpstreamToken } from './token-cache.js';

/**
 * A `fetch` that attaches `Authorization: Bearer <upstream token>` from `getToken` (a
 * {@link ClientCredentialsSource.getToken}, or a closure over {@link TokenExchanger.exchange}).
 * It replaces any `Authorization` header given, so the caller's token cannot leak through it.
 *
 * @example
 * const api = upstreamFetch(() => exchanger.exchange(req.auth, { audience: 'https://api.example.com' }));
 * const response = await api('https://api.example.com/v1/items');
 */
export function upstreamFetch(getToken: () => Promise<UpstreamToken | string>, fetchImpl: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const token = await getToken();
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    new Headers(init?.headers).forEach((value, name) => headers.set(name, value));
    headers.set('authorization', `Bearer ${typeof token === 'string' ? token : token.accessToken}`);
    return fetchImpl(input, { ...init, headers });
  };
}
