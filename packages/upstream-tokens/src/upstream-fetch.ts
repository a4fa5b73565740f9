import { UpstreamTokenError } from './errors.js';
import type { UpstreamToken } from './token-cache.js';
import { isHeaderSafeToken } from './token-response.js';

/**
 * A `fetch` that attaches `Authorization: Bearer <upstream token>` from `getToken` (a
 * {@link ClientCredentialsSource.getToken}, or a closure over {@link TokenExchanger.exchange}).
 * It replaces any `Authorization` header given, so the caller's token cannot leak through it.
 * A token that cannot go in a header rejects with `invalid_token_response` and nothing is sent.
 *
 * @example
 * const api = upstreamFetch(() => exchanger.exchange(req.auth, { audience: 'https://api.example.com' }));
 * const response = await api('https://api.example.com/v1/items');
 */
export function upstreamFetch(getToken: () => Promise<UpstreamToken | string>, fetchImpl: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const token = await getToken();
    // A token read from a file or an environment variable often ends in a newline: `Headers` would trim it.
    const accessToken = (typeof token === 'string' ? token : token?.accessToken)?.trim();
    // Checked here so that `Headers` never throws its TypeError, which quotes the value.
    if (!isHeaderSafeToken(accessToken)) throw new UpstreamTokenError('invalid_token_response', 'upstreamFetch: getToken gave no access token that can be sent in an Authorization header (RFC 6749 §A.12); nothing was sent');
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    new Headers(init?.headers).forEach((value, name) => headers.set(name, value));
    headers.set('authorization', `Bearer ${accessToken}`);
    return fetchImpl(input, { ...init, headers });
  };
}
