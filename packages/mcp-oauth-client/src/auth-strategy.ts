import type { ResourceChallenge } from './www-authenticate.js';

/** One request as a strategy sees it. */
export interface StrategyRequest {
  /** The request URL (never carries a token: C-36). */
  readonly url: URL;
  /** The HTTP method, upper-case. */
  readonly method: string;
  /** The MCP server the request goes to, canonical (RFC 8707 §2). */
  readonly serverUrl: string;
  /** What the request does (`tools/call echo`), for per-operation caps such as the step-up limit (C-24). */
  readonly operation: string;
}

/** A 401 or 403 answer, handed to {@link AuthStrategy.onChallenge}. */
export interface StrategyChallenge {
  readonly request: StrategyRequest;
  readonly status: 401 | 403;
  /**
   * The challenge of `WWW-Authenticate` for the scheme of the token sent (Bearer or DPoP, else the other), parsed by {@link readResourceChallenge};
   * undefined when the header is absent or malformed.
   */
  readonly challenge: ResourceChallenge | undefined;
  /** The response headers (the body is never read: it is discarded before a retry). */
  readonly headers: Headers;
  /** Retries already made for this request: 0 on the first challenge. */
  readonly retries: number;
}

/**
 * What {@link AuthStrategy.onChallenge} answers:
 * - `retry`: send the request again, with `state` (e.g. new tokens) handed to {@link AuthStrategy.headers};
 * - `fail` with an `error`: the request rejects with it;
 * - `fail` without an error: the 401/403 response is returned to the caller as it is.
 */
export type StrategyDecision<State> =
  | { readonly action: 'retry'; readonly state: State }
  | { readonly action: 'fail'; readonly error?: Error };

/**
 * How {@link withOAuth} and {@link mcpTransportOAuth} authenticate requests: a plain object, so a
 * strategy can be written, wrapped (delegate to another one) or replaced without a class hierarchy.
 *
 * Per request: `start` gives the initial state, `headers` the headers to attach for a state, and on
 * a 401 or 403 `onChallenge` decides between retrying with a new state and failing. The wrapper
 * retries at most {@link AuthStrategy.maxRetries} times per request (default 2), then rejects with
 * `McpOAuthError` `retry_limit` without asking the strategy again.
 *
 * Built-in strategies: {@link staticToken}, {@link oauthStrategy} (the full MCP OAuth flow, which
 * `withOAuth(fetch, options)` uses) and {@link clientCredentialsStrategy}.
 *
 * @example A token from your own source (a vault, a sidecar), fetched again after a 401:
 * const vault: AuthStrategy<string> = {
 *   start: () => readTokenFromVault(),
 *   headers: (_request, token) => ({ authorization: `Bearer ${token}` }),
 *   onChallenge: async ({ status }) => (status === 401 ? { action: 'retry', state: await readTokenFromVault({ fresh: true }) } : { action: 'fail' }),
 * };
 * const authedFetch = withOAuth(fetch, vault);
 */
export interface AuthStrategy<State = undefined> {
  /** The state a new request starts with (e.g. the stored tokens). Default: `undefined`. */
  readonly start?: (request: StrategyRequest) => State | Promise<State>;
  /** Headers to attach to the request for this state (`authorization`, `dpop`, …). */
  readonly headers: (request: StrategyRequest, state: State) => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>;
  /** Called on every 401 and 403 (while retries remain) with the parsed challenge. */
  readonly onChallenge: (challenge: StrategyChallenge, state: State) => StrategyDecision<State> | Promise<StrategyDecision<State>>;
  /** Sees every response before it is handled (e.g. to remember a `DPoP-Nonce`). Default: nothing. */
  readonly onResponse?: (response: Response, request: StrategyRequest, state: State) => void | Promise<void>;
  /** Retries per request at most. Default 2. */
  readonly maxRetries?: number;
}

/** True when `value` has the shape of an {@link AuthStrategy}. */
export function isAuthStrategy(value: unknown): value is AuthStrategy<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { headers?: unknown }).headers === 'function' &&
    typeof (value as { onChallenge?: unknown }).onChallenge === 'function'
  );
}
