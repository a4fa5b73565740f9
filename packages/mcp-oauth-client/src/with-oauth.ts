import { canonicalServerUrl } from './discovery.js';
import { McpOAuthError } from './errors.js';
import { createOAuthClient, type McpOAuthClient, type OAuthClientOptions } from './oauth-client.js';
import type { FetchLike } from './safe-fetch.js';
import { readResourceChallenge, type ResourceChallenge } from './www-authenticate.js';

/** Additional options of {@link withOAuth}. */
export interface WithOAuthOptions {
  /**
   * Names the operation a request performs, for the step-up cap (C-24). Default: the JSON-RPC
   * `method` (and `params.name`) of the body, else the `Mcp-Method`/`Mcp-Name` headers, else the HTTP method.
   */
  readonly operationOf?: (url: URL, init: RequestInit) => string;
}

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

function challengeOf(response: Response): ResourceChallenge | undefined {
  try {
    return readResourceChallenge(response.headers.get('www-authenticate'));
  } catch {
    // A malformed challenge still means "authenticate": fall back to well-known discovery (C-02).
    return undefined;
  }
}

/**
 * Wraps a `fetch` so every request to an MCP server carries its access token (C-35, never in the
 * URL: C-36), and a 401 or a 403 `insufficient_scope` is answered by refreshing, re-authorizing or
 * stepping up (C-22, C-23) before the request is sent again — a bounded number of times (C-24).
 * Pass either an existing {@link McpOAuthClient} (shared state) or the options to create one.
 *
 * @example
 * const authedFetch = withOAuth(fetch, { redirectUri, authorizationHandler: createLoopbackAuthorizationHandler() });
 * new StreamableHTTPClientTransport(new URL('https://mcp.example.com/mcp'), { fetch: authedFetch });
 */
export function withOAuth(fetch: FetchLike, clientOrOptions: McpOAuthClient | OAuthClientOptions, extra: WithOAuthOptions = {}): FetchLike {
  const client = 'handleChallenge' in clientOrOptions ? clientOrOptions : createOAuthClient(clientOrOptions);
  const maxStepUps = client.options.maxStepUps ?? 2;
  const maxRetries = client.options.maxUnauthorizedRetries ?? 2;
  const stepUps = new Map<string, number>();

  return async (input, init = {}) => {
    const url = new URL(input instanceof URL ? input.href : typeof input === 'string' ? input : (input as Request).url);
    // Buffer the body once so the request can be sent again after re-authorization.
    const rawBody = init.body;
    const body = rawBody === undefined || rawBody === null || typeof rawBody === 'string' ? (rawBody ?? undefined) : new Uint8Array(await new Response(rawBody).arrayBuffer());
    const method = (init.method ?? 'GET').toUpperCase();
    const serverUrl = canonicalServerUrl(url);
    const operation = `${serverUrl} ${extra.operationOf ? extra.operationOf(url, init) : defaultOperation(url, init, typeof body === 'string' ? body : undefined)}`;
    let tokens = await client.tokens(serverUrl);
    let unauthorized = 0;
    for (;;) {
      const headers = new Headers(init.headers);
      if (tokens) {
        const ctx = await client.context(serverUrl);
        for (const [name, value] of Object.entries(await client.authorizationHeaders(ctx, tokens, { method, url }))) headers.set(name, value);
      }
      const response = await fetch(url, { ...init, method, headers, ...(body !== undefined && { body }) });
      client.rememberDpopNonce(url, response.headers.get('dpop-nonce'));
      const challenge = response.status === 401 || response.status === 403 ? challengeOf(response) : undefined;
      if (response.status === 401) {
        if (tokens && challenge?.error === 'use_dpop_nonce' && unauthorized < maxRetries) {
          unauthorized++;
          await response.body?.cancel();
          continue;
        }
        if (unauthorized >= maxRetries) {
          await response.body?.cancel();
          throw new McpOAuthError('retry_limit', `${serverUrl} still answers 401 after ${maxRetries} new tokens`, { status: 401 });
        }
        unauthorized++;
        await response.body?.cancel();
        tokens = await client.handleChallenge(serverUrl, challenge, tokens?.accessToken);
        continue;
      }
      if (response.status === 403 && challenge?.error === 'insufficient_scope') {
        const attempts = stepUps.get(operation) ?? 0;
        await response.body?.cancel();
        // Re-authorizing for scopes the token already holds cannot help: stop instead of looping (C-24, C-52).
        const held = new Set((tokens?.scope ?? '').split(' ').filter(Boolean));
        const futile = tokens !== undefined && challenge.scopes !== undefined && challenge.scopes.length > 0 && challenge.scopes.every((s) => held.has(s));
        if (attempts >= maxStepUps || futile) {
          stepUps.delete(operation);
          throw new McpOAuthError('step_up_limit', `Gave up stepping up scopes for ${operation} after ${attempts} attempts`, { status: 403 });
        }
        stepUps.set(operation, attempts + 1);
        tokens = await client.handleChallenge(serverUrl, challenge, tokens?.accessToken);
        continue;
      }
      if (response.ok) stepUps.delete(operation);
      return response;
    }
  };
}
