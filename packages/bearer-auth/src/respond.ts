import type { IncomingMessage, ServerResponse } from 'node:http';
import { TokenVerificationError, VerifierUnavailableError, InsufficientScopeError } from '@portcullis/token-verification';
import { formatBearerChallenge } from './challenge.js';
import type { JsonRpcHttpError } from './mcp-operations.js';

/** What a mount knows when it answers: fixed at construction. */
export interface ChallengeSettings {
  readonly resourceMetadata: string;
  readonly realm: string | undefined;
  /** `scope` of the 401 challenge (S-06). */
  readonly challengeScopes: readonly string[];
  /** The challenge without an error code (no credentials), the same on every such 401: written once. */
  readonly bareChallenge: string;
  /** 400/401 challenges by error code and description: a few fixed texts, formatted once each. */
  readonly challenges: Map<string, string>;
  /** Told of every 503 before it is sent: the detail the client does not get (see `onUnavailable`). */
  readonly onUnavailable: (error: VerifierUnavailableError, req: IncomingMessage | undefined) => void;
}

/** Distinct error texts remembered per mount; beyond that they are formatted each time. */
const MAX_REMEMBERED_CHALLENGES = 64;

/** The fixed parts of a mount's answers, from {@link formatBearerChallenge} at construction. */
export function challengeSettings(
  resourceMetadata: string,
  realm: string | undefined,
  challengeScopes: readonly string[],
  onUnavailable: ChallengeSettings['onUnavailable'] = logUnavailable(),
): ChallengeSettings {
  const bareChallenge = formatBearerChallenge({ resourceMetadata, realm, scope: challengeScopes });
  return Object.freeze({ resourceMetadata, realm, challengeScopes, bareChallenge, challenges: new Map<string, string>(), onUnavailable });
}

/** Distinct 503 reasons logged by default, each at most once a minute. */
const LOG_INTERVAL_MS = 60_000;
const MAX_LOGGED_REASONS = 32;

/**
 * The default for a 503: `console.error` with the reason and its cause, so that a misconfigured
 * issuer or an unreachable JWKS does not pass for an outage nobody can explain. Once a minute per
 * distinct reason, as an AS outage fails every request. The messages name endpoints, never tokens.
 */
function logUnavailable(): ChallengeSettings['onUnavailable'] {
  const lastLogged = new Map<string, number>();
  return (error) => {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    const line = `bearerAuth() answered 503: ${error.message}${cause}`;
    const now = Date.now();
    if (now - (lastLogged.get(line) ?? -Infinity) < LOG_INTERVAL_MS) return;
    lastLogged.delete(line);
    lastLogged.set(line, now);
    if (lastLogged.size > MAX_LOGGED_REASONS) lastLogged.delete(lastLogged.keys().next().value!);
    console.error(line);
  };
}

/** Adds names to `Access-Control-Expose-Headers` without dropping what `cors` put there. */
function exposeHeaders(res: ServerResponse, names: readonly string[]): void {
  const current = res.getHeader('access-control-expose-headers');
  if (current === undefined) {
    res.setHeader('access-control-expose-headers', names.join(', ')); // the common case: no CORS middleware ran
    return;
  }
  const list = (Array.isArray(current) ? current.join(',') : current === undefined ? '' : String(current))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.includes('*')) return;
  for (const name of names) if (!list.some((h) => h.toLowerCase() === name.toLowerCase())) list.push(name);
  res.setHeader('access-control-expose-headers', list.join(', '));
}

/**
 * Answers one of our own errors: status from the error, one `WWW-Authenticate: Bearer` challenge
 * (never for 503), `Cache-Control: no-store`, and a small JSON body that never echoes the token.
 */
export function sendBearerError(res: ServerResponse, error: TokenVerificationError, settings: ChallengeSettings, token?: string): void {
  let description = error.message;
  // Defence in depth: a verifier that put the token in its message must not leak it (S-22).
  if (token && description.includes(token)) description = 'The access token is not valid';

  res.statusCode = error.status;
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-type', 'application/json');
  if (error instanceof VerifierUnavailableError) {
    try {
      settings.onUnavailable(error, res.req);
    } catch (hookError) {
      // A failing logger must not cost the client its answer; the failure itself is still told.
      console.error('bearerAuth(): onUnavailable threw', hookError);
    }
    res.setHeader('retry-after', String(Math.max(0, Math.ceil(error.retryAfter))));
    exposeHeaders(res, ['Retry-After']);
    // The upstream detail (which endpoint, our own client credentials failing) is for operators, in
    // the error's message and cause; an unauthenticated caller learns only that it should retry.
    res.end(JSON.stringify({ error: 'temporarily_unavailable', error_description: 'The authorization server cannot be reached; try again later' }));
    return;
  }
  const scope =
    error instanceof InsufficientScopeError ? error.requiredScopes : error.status === 401 ? settings.challengeScopes : undefined;
  res.setHeader('www-authenticate', error.code === undefined && error.status === 401 ? settings.bareChallenge : challengeFor(error, description, scope, settings));
  exposeHeaders(res, ['WWW-Authenticate']);
  // No OAuth error code when there were no credentials (RFC 6750 §3.1), in the body as in the header.
  res.end(JSON.stringify(error.code === undefined ? { error_description: description } : { error: error.code, error_description: description }));
}

function challengeFor(error: TokenVerificationError, description: string, scope: readonly string[] | undefined, settings: ChallengeSettings): string {
  // Only the challenges whose scope is the mount's own are remembered: 403 scopes vary per request.
  const key = scope === undefined || scope === settings.challengeScopes ? `${error.code}\n${description}` : undefined;
  let challenge = key === undefined ? undefined : settings.challenges.get(key);
  if (challenge === undefined) {
    challenge = formatBearerChallenge({
      resourceMetadata: settings.resourceMetadata,
      realm: settings.realm,
      error: error.code,
      errorDescription: error.code === undefined ? undefined : description,
      scope,
    });
    if (key !== undefined && settings.challenges.size < MAX_REMEMBERED_CHALLENGES) settings.challenges.set(key, challenge);
  }
  return challenge;
}

/** Answers a JSON-RPC-level refusal (header mismatch, unparsable or oversized body). */
export function sendJsonRpcError(res: ServerResponse, error: JsonRpcHttpError): void {
  res.statusCode = error.status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify({ jsonrpc: '2.0', id: error.id, error: { code: error.rpcCode, message: error.message } }));
}
