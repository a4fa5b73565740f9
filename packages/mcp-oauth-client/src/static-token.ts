import { isHeaderSafeToken } from './access-token.js';
import type { AuthStrategy } from './auth-strategy.js';
import { McpOAuthError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';

/** Options of {@link staticToken}. */
export interface StaticTokenOptions {
  /** The authorization scheme. Default `Bearer`. */
  readonly scheme?: string;
}

const STATIC_TOKEN_OPTIONS: KnownOptions<StaticTokenOptions> = { scheme: true };

/**
 * A token the user already holds (from the environment, a secret store, a CI variable) as an
 * {@link AuthStrategy}: attached as `Authorization: Bearer <token>`, no discovery, no OAuth flow.
 * A static token cannot be renewed, so a 401 or a 403 rejects at once with `McpOAuthError`
 * `static_token_rejected` — exactly one request is sent, never a retry. A function is called for
 * every request (so a rotated secret is picked up), never to recover from a 401: write a custom
 * {@link AuthStrategy} for that.
 *
 * @example
 * const authedFetch = withOAuth(fetch, staticToken(() => readFileSync('/run/secrets/mcp-token', 'utf8').trim()));
 */
export function staticToken(token: string | (() => string | Promise<string>), options: StaticTokenOptions = {}): AuthStrategy<undefined> {
  assertKnownOptions(options, STATIC_TOKEN_OPTIONS, 'staticToken options');
  const scheme = options.scheme ?? 'Bearer';
  // Surrounding whitespace (the newline a secret file ends with) is dropped, as `Headers` would;
  // whitespace inside a token cannot be sent.
  const usable = (value: unknown): value is string => typeof value === 'string' && isHeaderSafeToken(value.trim());
  if (typeof token !== 'function' && !usable(token)) {
    throw new McpOAuthError('invalid_options', 'staticToken needs a token (no spaces or line breaks inside: it is sent in an Authorization header) or a function returning one');
  }
  return {
    async headers() {
      const value = typeof token === 'function' ? await token() : token;
      if (!usable(value)) throw new McpOAuthError('invalid_options', 'The staticToken source returned no token, or one with spaces or line breaks inside');
      return { authorization: `${scheme} ${value.trim()}` };
    },
    onChallenge({ status, challenge, request }) {
      const reason = challenge?.error ? ` (${challenge.error})` : '';
      const hint = status === 401 ? 'it is invalid or expired' : 'it lacks the permissions or scopes this request needs';
      return {
        action: 'fail',
        // Never the token itself in the message: only the server, the status and the challenge's error code.
        error: new McpOAuthError('static_token_rejected', `${request.serverUrl} refused the static token with ${status}${reason}: ${hint}. A static token is never renewed; provide a new one or use an OAuth strategy`, { status }),
      };
    },
  };
}
