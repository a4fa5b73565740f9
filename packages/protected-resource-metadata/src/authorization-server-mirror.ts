import type { IncomingMessage, ServerResponse } from 'node:http';
import { assertKnownOptions, ConfigurationError, fetchAuthorizationServerMetadata, type KnownOptions } from '@portcullis/token-verification';
import { requestPathname, type NextFunction, type NodeMiddleware } from './http.js';
import { exactIssuer } from './protected-resource.js';
import { parseConfiguredUrl } from './urls.js';

/** Options of {@link authorizationServerMetadataMirror}. */
export interface AuthorizationServerMetadataMirrorOptions {
  /** The issuer whose RFC 8414 metadata is mirrored. */
  readonly issuer: URL | string;
  /** Seconds a fetched document is served before it is fetched again. Default 300. */
  readonly maxAge?: number;
  /** Milliseconds to wait for the issuer. Default 5000. */
  readonly timeout?: number;
  /** Largest document accepted from the issuer, in bytes. Default 64 KiB. */
  readonly maxResponseBytes?: number;
  /** The `fetch` to use. Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Told of each failed fetch of the issuer's metadata (a `VerifierUnavailableError` naming the
   * reason), e.g. to log it: meanwhile the mirror answers its copy, or 503. Default: none.
   */
  readonly onError?: (error: Error) => void;
}

export const MIRROR_OPTIONS: KnownOptions<AuthorizationServerMetadataMirrorOptions> = {
  issuer: true,
  maxAge: true,
  timeout: true,
  maxResponseBytes: true,
  fetch: true,
  now: true,
  onError: true,
};

const MIRROR_PATH = '/.well-known/oauth-authorization-server';
/** After a failed fetch the issuer is left alone this long: the 503's `Retry-After`. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Mirrors the authorization server's RFC 8414 metadata at this origin's
 * `/.well-known/oauth-authorization-server`, for MCP clients of spec 2025-03-26 that look for it
 * there (L-01, L-03). Off unless mounted: it serves another party's issuer from our origin.
 *
 * The document is fetched from the issuer (RFC 8414 §3.1 URL, then OpenID Connect Discovery; no
 * redirects followed, at most `maxResponseBytes`), used only if its `issuer` equals the configured
 * one (RFC 8414 §3.3: a mismatch ends the search) and cached for `maxAge` seconds. For `maxAge`
 * seconds more it is still answered at once while a fresh one is fetched behind it, so a slow issuer
 * delays no client; an older copy, or none, waits for the issuer, and is answered if the issuer
 * fails. After a failed fetch (told to `onError`) the issuer is left alone for 5 s; with no copy the
 * answer is then 503 with `Retry-After: 5`. `Cache-Control` gives what is left of the
 * copy's `maxAge`.
 */
export function authorizationServerMetadataMirror(options: AuthorizationServerMetadataMirrorOptions): NodeMiddleware {
  assertKnownOptions(options, MIRROR_OPTIONS, 'authorizationServerMetadataMirror()');
  const issuerUrl = parseConfiguredUrl(options?.issuer, 'issuer', { noQuery: true });
  const issuer = exactIssuer(options.issuer, issuerUrl);
  const maxAge = options.maxAge ?? 300;
  const timeout = options.timeout ?? 5000;
  if (!Number.isFinite(maxAge) || maxAge < 0) throw new ConfigurationError('ERR_INVALID_OPTIONS', 'maxAge must be a number of seconds ≥ 0');
  if (!Number.isFinite(timeout) || timeout <= 0) throw new ConfigurationError('ERR_INVALID_OPTIONS', 'timeout must be a number of milliseconds > 0');
  const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes <= 0) throw new ConfigurationError('ERR_INVALID_OPTIONS', 'maxResponseBytes must be a whole number of bytes > 0');
  for (const hook of ['fetch', 'now', 'onError'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') throw new ConfigurationError('ERR_INVALID_OPTIONS', `${hook} must be a function`);
  }
  const now = options.now ?? Date.now;

  let cached: { body: string; fetchedAt: number } | undefined;
  let inflight: Promise<void> | undefined;
  /** When the issuer may be asked again after a failed fetch (ms, `now()`'s clock). */
  let retryAt = -Infinity;

  async function fetchOnce(): Promise<void> {
    // The verifiers' own discovery: the same URLs, checks and limits, so the mirror serves exactly
    // what they would use.
    const metadata = await fetchAuthorizationServerMetadata(issuer, { ...(options.fetch && { fetch: options.fetch }), timeout, maxResponseBytes });
    cached = { body: JSON.stringify(metadata), fetchedAt: now() };
  }

  function refresh(): Promise<void> {
    inflight ??= fetchOnce()
      .catch((error: unknown) => {
        retryAt = now() + RETRY_AFTER_SECONDS * 1000;
        try {
          options.onError?.(error as Error);
        } catch {
          // a failing logger must not turn into an unhandled rejection or change the answer
        }
        throw error;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }

  return (req: IncomingMessage, res: ServerResponse, next: NextFunction) => {
    if (requestPathname(req) !== MIRROR_PATH) return next();
    if (req.method === 'OPTIONS') {
      res.writeHead(204, preflightHeaders()).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: ALLOW, 'content-type': 'application/json' }).end(JSON.stringify({ error: 'method_not_allowed' }));
      return;
    }
    const age = cached === undefined ? Infinity : now() - cached.fetchedAt;
    if (age < maxAge * 1000) return send(req, res);
    const due = now() >= retryAt;
    // Up to maxAge past its age (RFC 5861's stale-while-revalidate), or while a failing issuer is
    // left alone, the copy is answered at once and, when due, refreshed behind the answer.
    if (cached !== undefined && (age < 2 * maxAge * 1000 || !due)) {
      if (due) refresh().catch(() => {}); // a failure is noted in retryAt; the copy stands meanwhile
      return send(req, res);
    }
    if (!due) return unavailable(req, res);
    refresh().then(
      () => send(req, res),
      () => (cached !== undefined ? send(req, res) : unavailable(req, res)), // an old copy beats none
    );
  };

  function unavailable(req: IncomingMessage, res: ServerResponse): void {
    res
      .writeHead(503, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'retry-after': String(RETRY_AFTER_SECONDS),
        'access-control-allow-origin': '*',
      })
      .end(req.method === 'HEAD' ? undefined : JSON.stringify({ error: 'temporarily_unavailable', error_description: 'The authorization server metadata is unavailable' }));
  }

  function send(req: IncomingMessage, res: ServerResponse): void {
    const { body, fetchedAt } = cached!;
    // What is left of the copy's own lifetime: a stale copy must not be kept longer downstream.
    const left = Math.max(0, Math.floor(maxAge - (now() - fetchedAt) / 1000));
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': `public, max-age=${left}`,
      'access-control-allow-origin': '*',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

export const ALLOW = 'GET, HEAD, OPTIONS';

/** CORS preflight answer for public, credential-less metadata. */
export function preflightHeaders(): Record<string, string> {
  return {
    allow: ALLOW,
    'access-control-allow-origin': '*',
    'access-control-allow-methods': ALLOW,
    'access-control-allow-headers': '*',
    'access-control-max-age': '86400',
  };
}
