import type { FetchLike } from '../../src/safe-fetch.js';

/** One recorded request at the network edge. */
export interface EdgeRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Headers;
  readonly body: string;
  readonly form: URLSearchParams;
}

export type Route = (request: EdgeRequest) => Response | Promise<Response>;

/**
 * A fake network for orchestrator tests: routes by "origin+path" to handlers and records every request.
 * It replaces only the network edge (the injected fetch); the code under test runs unchanged.
 */
export function stubWorld(routes: Record<string, Route>) {
  const requests: EdgeRequest[] = [];
  const fetch: FetchLike = async (input, init = {}) => {
    const url = new URL(String(input instanceof URL ? input.href : input));
    const body = init.body === undefined || init.body === null ? '' : typeof init.body === 'string' ? init.body : await new Response(init.body).text();
    const request: EdgeRequest = { url, method: (init.method ?? 'GET').toUpperCase(), headers: new Headers(init.headers), body, form: new URLSearchParams(body) };
    requests.push(request);
    const route = routes[`${url.origin}${url.pathname}`];
    return route ? route(request) : new Response('not found', { status: 404 });
  };
  const to = (path: string) => requests.filter((r) => `${r.url.origin}${r.url.pathname}` === path);
  return { fetch, requests, to };
}

export const asMetadata = (issuer: string, extra: Record<string, unknown> = {}) => ({
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  registration_endpoint: `${issuer}/register`,
  code_challenge_methods_supported: ['S256'],
  token_endpoint_auth_methods_supported: ['none'],
  ...extra,
});

export const tokenResponse = (accessToken: string, extra: Record<string, unknown> = {}) =>
  Response.json({ access_token: accessToken, token_type: 'Bearer', expires_in: 3600, ...extra });
