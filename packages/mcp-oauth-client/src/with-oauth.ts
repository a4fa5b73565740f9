import { isAuthStrategy, type AuthStrategy, type StrategyRequest } from './auth-strategy.js';
import { canonicalServerUrl } from './discovery.js';
import { McpOAuthError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';
import type { McpOAuthClient, OAuthClientOptions } from './oauth-client.js';
import { strategyFor } from './oauth-strategy.js';
import type { FetchLike } from './safe-fetch.js';
import { readResourceChallenge, type ResourceChallenge } from './www-authenticate.js';

/** What {@link withOAuth} returns: a {@link FetchLike} that also takes a `Request`, merged with `init` as `fetch` does. */
export type OAuthFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Additional options of {@link withOAuth}. */
export interface WithOAuthOptions {
  /**
   * Names the operation a request performs, for the step-up cap (C-24). Default: the JSON-RPC
   * `method` (and `params.name`) of the body, else the `Mcp-Method`/`Mcp-Name` headers, else the HTTP method.
   */
  readonly operationOf?: (url: URL, init: RequestInit) => string;
}

const WITH_OAUTH_OPTIONS: KnownOptions<WithOAuthOptions> = { operationOf: true };

function defaultOperation(url: URL, init: RequestInit, body: string | undefined): string {
  const headers = new Headers(init.headers);
  if (body !== undefined) {
    try {
      const json = JSON.parse(body) as { method?: unknown; params?: { name?: unknown } };
      if (typeof json.method === 'string') return typeof json.params?.name === 'string' ? `${json.method} ${json.params.name}` : json.method;
    } catch {
      // Not JSON: fall through to the headers.
    }
  }
  const method = headers.get('mcp-method');
  if (method) return `${method} ${headers.get('mcp-name') ?? ''}`.trim();
  return `${init.method ?? 'GET'} ${url.pathname}`;
}

/** One call of the wrapped fetch, resolved once so it can be sent again after a 401 or 403. */
interface Outgoing {
  readonly url: URL;
  /** Method upper-case, headers, body buffered, signal, `redirect` never `follow`: `init` merged over a `Request` input. */
  readonly init: RequestInit & { readonly method: string; readonly headers: Headers };
  /** The caller asked for redirects to be followed (fetch's default): this wrapper follows them. */
  readonly follow: boolean;
}

/**
 * Merges a `Request` input with `init` the way `fetch` does (Fetch, Request constructor): a field
 * given in `init` replaces the request's (headers as a whole), the rest comes from the request.
 * The body is buffered, as a stream could not be sent a second time.
 */
async function outgoing(input: string | URL | Request, init: RequestInit): Promise<Outgoing> {
  const source = typeof input === 'string' || input instanceof URL ? undefined : input;
  const url = new URL(source ? source.url : input instanceof URL ? input.href : input);
  const method = (init.method ?? source?.method ?? 'GET').toUpperCase();
  const headers = new Headers(init.headers ?? source?.headers);
  let body: string | Uint8Array | undefined;
  if (typeof init.body === 'string') body = init.body;
  else if (init.body !== undefined && init.body !== null) {
    // Bytes carry no type, so keep the one fetch would imply (form, multipart, Blob type). Serialise
    // once: a FormData's multipart boundary is drawn here and must match the bytes.
    const serialised = new Response(init.body);
    const implied = serialised.headers.get('content-type');
    if (implied !== null && !headers.has('content-type')) headers.set('content-type', implied);
    body = new Uint8Array(await serialised.arrayBuffer());
  } else if (init.body === undefined && source?.body) body = new Uint8Array(await source.arrayBuffer());
  const signal = init.signal !== undefined ? init.signal : source?.signal;
  // Never let fetch follow a redirect: it would carry the token, and the DPoP proof bound to this URL
  // (RFC 9449 §4.2 `htu`), to another one (Fetch drops only Authorization, only across origins), and
  // the target's 401 would pass for this server's challenge. This wrapper follows them itself (see
  // `redirected`); `manual` and `error` are the caller's to keep.
  const wanted = init.redirect ?? source?.redirect ?? 'follow';
  const redirect = wanted === 'error' ? 'error' : 'manual';
  return { url, follow: wanted === 'follow', init: { ...init, method, headers, redirect, ...(body !== undefined && { body }), ...(signal !== undefined && { signal }) } };
}

/** `work`, or the signal's reason as soon as it aborts (the work goes on; its outcome is dropped). */
function untilAborted<T>(work: T | Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return Promise.resolve(work);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    Promise.resolve(work)
      .finally(() => signal.removeEventListener('abort', abort))
      .then(resolve, reject);
  });
}

/** The challenge for the token just sent: a DPoP-bound one is answered in the DPoP challenge (RFC 9449 §7.1). */
function challengeOf(response: Response, sent: Headers): ResourceChallenge | undefined {
  const scheme = /^dpop\s/i.test(sent.get('authorization') ?? '') ? 'dpop' : 'bearer';
  try {
    return readResourceChallenge(response.headers.get('www-authenticate'), { scheme });
  } catch {
    // A malformed challenge still means "authenticate": fall back to well-known discovery (C-02).
    return undefined;
  }
}

/**
 * Wraps a `fetch` so every request to an MCP server is authenticated by a strategy (C-35, never in
 * the URL: C-36), and a 401 or 403 is handed to the strategy, which answers by retrying with new
 * state (refresh, re-authorization, step-up: C-22, C-23) or by failing — a bounded number of times
 * per request (C-24; {@link AuthStrategy.maxRetries}, default 2), then `McpOAuthError` `retry_limit`.
 *
 * Pass an {@link AuthStrategy} ({@link staticToken}, {@link clientCredentialsStrategy}, your own),
 * an existing {@link McpOAuthClient} (shared state) or the options to create one: the last two use
 * the full OAuth flow, {@link oauthStrategy}.
 *
 * Redirects are followed by the wrapper, never by `fetch` with the token attached: a same-origin hop
 * is authenticated for its own URL (its own tokens and DPoP proof), a hop to another origin is sent
 * without credentials; `redirect: 'manual'` returns the 3xx and `'error'` rejects, as fetch does.
 *
 * @example
 * const authedFetch = withOAuth(fetch, { redirectUri, authorizationHandler: createLoopbackAuthorizationHandler() });
 * new StreamableHTTPClientTransport(new URL('https://mcp.example.com/mcp'), { fetch: authedFetch });
 * @example
 * const authedFetch = withOAuth(fetch, staticToken(process.env.MCP_TOKEN!));
 */
export function withOAuth<State>(fetch: FetchLike, strategy: AuthStrategy<State>, extra?: WithOAuthOptions): OAuthFetch;
export function withOAuth(fetch: FetchLike, clientOrOptions: McpOAuthClient | OAuthClientOptions, extra?: WithOAuthOptions): OAuthFetch;
export function withOAuth(fetch: FetchLike, source: AuthStrategy<unknown> | McpOAuthClient | OAuthClientOptions, extra: WithOAuthOptions = {}): OAuthFetch {
  assertKnownOptions(extra, WITH_OAUTH_OPTIONS, 'withOAuth options (its third argument)');
  const strategy = isAuthStrategy(source) ? source : (strategyFor(source as McpOAuthClient | OAuthClientOptions, 'withOAuth') as unknown as AuthStrategy<unknown>);
  const maxRetries = strategy.maxRetries ?? 2;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new McpOAuthError('invalid_options', 'AuthStrategy.maxRetries must be a non-negative integer');

  /**
   * A redirect followed as fetch would (Fetch §4.4 HTTP-redirect fetch: at most 20, a 303, or a 301
   * or 302 after a POST, becomes a GET without body), each hop sent afresh: on the same origin through
   * this wrapper, which authenticates it for its own URL; to another origin without credentials (it
   * may be another MCP server, which a redirect must not get the user signed in to).
   */
  const redirected = async (response: Response, from: URL, sent: Outgoing['init'], hops: number): Promise<Response> => {
    const location = response.headers.get('location');
    const to = location === null ? null : URL.parse(location, from.href);
    if (!to || (to.protocol !== 'https:' && to.protocol !== 'http:')) return response;
    await response.body?.cancel();
    if (hops >= 20) throw new McpOAuthError('fetch_failed', `More than 20 redirects from ${from.origin}${from.pathname}`);
    const toGet = response.status === 303 ? sent.method !== 'HEAD' : (response.status === 301 || response.status === 302) && sent.method === 'POST';
    const headers = new Headers(sent.headers);
    if (toGet) for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(name);
    // Credentials the caller set themselves stay on their origin too (Fetch drops Authorization there).
    if (to.origin !== from.origin) for (const name of ['authorization', 'dpop', 'proxy-authorization', 'cookie']) headers.delete(name);
    const { body: _body, ...rest } = sent;
    const next: RequestInit = { ...rest, headers, redirect: 'follow', ...(toGet ? { method: 'GET' } : sent.body !== undefined && { body: sent.body }) };
    return to.origin === from.origin ? send(to, next, hops + 1) : fetch(to, next);
  };

  const send = async (input: string | URL | Request, init: RequestInit, hops: number): Promise<Response> => {
    const { url, init: sent, follow } = await outgoing(input, init);
    const { method, body } = sent;
    const serverUrl = canonicalServerUrl(url);
    const operation = `${serverUrl} ${extra.operationOf ? extra.operationOf(url, sent) : defaultOperation(url, sent, typeof body === 'string' ? body : undefined)}`;
    const request: StrategyRequest = { url, method, serverUrl, operation };
    // The strategy's work (a refresh, an interactive authorization) cannot be cancelled, but the
    // caller's wait for it ends when the caller's signal aborts.
    const signal = sent.signal ?? undefined;
    let state = strategy.start ? await untilAborted(strategy.start(request), signal) : undefined;
    for (let retries = 0; ; retries++) {
      const headers = new Headers(sent.headers);
      for (const [name, value] of Object.entries(await strategy.headers(request, state))) headers.set(name, value);
      const response = await fetch(url, { ...sent, headers });
      await strategy.onResponse?.(response, request, state);
      if (follow && REDIRECTS.has(response.status)) return redirected(response, url, sent, hops);
      if (response.status !== 401 && response.status !== 403) return response;
      if (retries >= maxRetries) {
        await response.body?.cancel();
        throw new McpOAuthError('retry_limit', `${serverUrl} still answers ${response.status} after ${retries} retries`, { status: response.status });
      }
      let decision;
      try {
        decision = await untilAborted(strategy.onChallenge({ request, status: response.status, challenge: challengeOf(response, headers), headers: response.headers, retries }, state), signal);
      } catch (error) {
        await response.body?.cancel();
        throw error;
      }
      if (decision.action === 'fail' && decision.error === undefined) return response;
      await response.body?.cancel();
      if (decision.action === 'fail') throw decision.error;
      state = decision.state;
    }
  };
  return (input, init = {}) => send(input, init, 0);
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
