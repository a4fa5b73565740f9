import { createHash } from 'node:crypto';
import type { FetchLike } from '@portcullis/mcp-oauth-client';

/** A short fingerprint, so a reader can tell tokens apart without seeing one. */
export const fingerprint = (token: string): string => `#${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;

/** Writes one line of the transcript. */
export type Print = (line: string) => void;

/** Shows a token without ever showing it whole: its kind, its length, and for a JWT the claims that matter here. */
export function describeToken(token: string): string {
  const parts = token.split('.');
  if (parts.length === 3) {
    try {
      const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      const fields = ['sub', 'client_id', 'aud', 'scope', 'exp']
        .filter((k) => claims[k] !== undefined)
        .map((k) => `${k}=${k === 'exp' ? new Date(Number(claims[k]) * 1000).toISOString() : String(claims[k])}`);
      return `JWT ${fingerprint(token)} (${fields.join(', ')})`;
    } catch {
      // Not a readable JWT payload: describe it as opaque.
    }
  }
  return `opaque ${fingerprint(token)} (${token.length} chars)`;
}

function bodyText(body: RequestInit['body']): string | undefined {
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  return undefined;
}

/** What a request is for, without secrets (no codes, verifiers, refresh tokens or client secrets). */
function describeRequest(url: URL, init: RequestInit): string {
  const body = bodyText(init.body);
  if (url.pathname.endsWith('/token') && body !== undefined) {
    const form = new URLSearchParams(body);
    const scope = form.get('scope');
    return `grant_type=${form.get('grant_type')}${scope ? ` scope="${scope}"` : ''}${form.get('resource') ? ` resource=${form.get('resource')}` : ''}`;
  }
  if (url.pathname.endsWith('/auth') || url.pathname.endsWith('/authorize')) {
    const p = url.searchParams;
    return `response_type=${p.get('response_type')} scope="${p.get('scope')}" resource=${p.get('resource')} code_challenge_method=${p.get('code_challenge_method')}`;
  }
  if (body !== undefined) {
    try {
      const json = JSON.parse(body) as { method?: string; params?: { name?: string }; client_name?: string; redirect_uris?: string[] };
      if (json.method) return `${json.method}${json.params?.name ? ` ${json.params.name}` : ''}`;
      if (json.redirect_uris) return `register "${json.client_name ?? ''}" redirect_uris=${json.redirect_uris.join(' ')}`;
    } catch {
      // Not JSON: nothing to describe.
    }
  }
  return '';
}

async function describeResponse(url: URL, response: Response): Promise<string> {
  const notes: string[] = [];
  const challenge = response.headers.get('www-authenticate');
  if (challenge) notes.push(`WWW-Authenticate: ${challenge}`);
  const location = response.headers.get('location');
  if (location) {
    const to = new URL(location, url);
    const path = to.pathname.replace(/^\/(interaction|auth)\/[^/]+$/, '/$1/…');
    notes.push(`→ ${to.origin === url.origin ? '' : to.origin}${path}${to.searchParams.has('code') ? ' (with code, state and iss)' : ''}`);
  }
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    const json = (await response.clone().json().catch(() => undefined)) as Record<string, unknown> | undefined;
    // MCP (JSON-RPC) results are shown by the caller, not here.
    if (json && !('jsonrpc' in json)) {
      if (typeof json['access_token'] === 'string') {
        notes.push(`access token: ${describeToken(json['access_token'])}`);
        notes.push(`scope="${String(json['scope'] ?? '')}" expires_in=${String(json['expires_in'])} refresh token: ${json['refresh_token'] ? 'yes (rotated on use)' : 'no'}`);
      } else if (json['authorization_servers']) {
        notes.push(`resource=${String(json['resource'])} authorization_servers=${String(json['authorization_servers'])} scopes_supported=${String(json['scopes_supported'] ?? '')}`);
      } else if (json['issuer'] && json['token_endpoint']) {
        notes.push(`issuer=${String(json['issuer'])} registration_endpoint=${json['registration_endpoint'] ? 'yes' : 'no'} PKCE=${String(json['code_challenge_methods_supported'] ?? '')}`);
      } else if (json['client_id']) {
        notes.push(`client_id=${String(json['client_id'])} token_endpoint_auth_method=${String(json['token_endpoint_auth_method'])}`);
      } else if (json['error']) {
        notes.push(`error=${String(json['error'])} ${String(json['error_description'] ?? '')}`);
      }
    }
  }
  return notes.join('\n      ');
}

/**
 * Wraps a fetch to print who called whom, the status and the scopes involved. Tokens are shown only
 * through {@link describeToken} and {@link fingerprint}.
 */
export function traceFetch(fetch: FetchLike, print: Print, nameOf: (url: URL) => string): FetchLike {
  return async (input, init = {}) => {
    const url = new URL(input instanceof URL ? input.href : input);
    const authorization = new Headers(init.headers).get('authorization');
    const bearer = authorization?.startsWith('Bearer ') ? ` [Bearer ${fingerprint(authorization.slice(7))}]` : '';
    const what = describeRequest(url, init);
    const response = await fetch(input, init);
    // Interaction ids are noise here; the dev AS in auto mode signs in on the first of these hops of
    // an authorization and consents on the second.
    const path = url.pathname.replace(/^\/(interaction|auth)\/[^/]+$/, '/$1/…') + (url.pathname.startsWith('/interaction/') ? ' (the development AS signs in, then consents: auto-approved)' : '');
    const method = init.method ?? 'GET';
    print(`  client → ${nameOf(url)}: ${method} ${path}${what ? ` ${what}` : ''}${bearer}`);
    let notes = await describeResponse(url, response);
    // The MCP SDK asks for a standalone server-sent event stream; this server offers none.
    if (method === 'GET' && response.status === 405) notes = `${notes ? `${notes} ` : ''}(no event stream on GET: the SDK goes on without one)`;
    print(`    ← ${response.status}${notes ? ` ${notes}` : ''}`);
    return response;
  };
}
