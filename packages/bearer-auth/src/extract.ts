import type { IncomingMessage } from 'node:http';
import { InvalidRequestError, MissingCredentialsError } from '@portcullis/token-verification';

/** RFC 7235 §2.1 `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
/** `auth-scheme 1*SP credentials` (RFC 7235 §2.1); the scheme is a `token`. */
const CREDENTIALS = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s;
/** `application/x-www-form-urlencoded`, with or without parameters. */
const FORM = /^[ \t]*application\/x-www-form-urlencoded\b/i;

/**
 * Takes the access token from the one place OAuth 2.1 allows for MCP: `Authorization: Bearer`
 * (RFC 6750 §2.1, scheme case-insensitive, token68 syntax). Pure apart from reading `req`.
 *
 * - `access_token` in the query string: always 400 `invalid_request` (OAuth 2.1 §5.1, S-26), even
 *   alongside a header, so a token leaked into logs and `Referer` is refused loudly.
 * - two `Authorization` headers, or a header plus a form-body `access_token`: 400 (RFC 6750 §2).
 * - an `Authorization` header over `maxLength` characters: 400 before any parsing or verification.
 * - no header, or another scheme (`Basic`, `DPoP`): {@link MissingCredentialsError} (401 with no
 *   error code, RFC 6750 §3.1).
 */
export function extractBearerToken(req: IncomingMessage, maxLength: number): string {
  const token = bearerCredentials(req, maxLength);
  const malformed = token68Error(token);
  if (malformed) throw malformed;
  return token;
}

/**
 * {@link extractBearerToken} without the token's own syntax check, which bearerAuth() makes with
 * {@link token68Error} after the verifier's memory (internal).
 */
export function bearerCredentials(req: IncomingMessage, maxLength: number): string {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q !== -1 && new URLSearchParams(url.slice(q + 1)).has('access_token')) {
    throw new InvalidRequestError('Access tokens are never accepted in the query string; send an Authorization: Bearer header');
  }

  // Node keeps only the first of duplicated Authorization headers in req.headers: count raw ones.
  // One pass also notes a form-encoded body, the only kind whose `access_token` RFC 6750 §2.2 defines.
  let header: string | undefined;
  let count = 0;
  let form = false;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 13 && isHeaderName(name, 'Authorization', 'authorization')) {
      count++;
      header = raw[i + 1];
    } else if (name.length === 12 && isHeaderName(name, 'Content-Type', 'content-type') && FORM.test(raw[i + 1]!)) {
      form = true;
    }
  }
  const bodyToken = form && formBodyToken(req);
  if (count > 1) throw new InvalidRequestError('Only one Authorization header may be sent');
  if (header === undefined) {
    if (bodyToken) throw new InvalidRequestError('Send the access token in the Authorization header, not in the request body');
    throw new MissingCredentialsError();
  }
  if (header.length > maxLength) throw new InvalidRequestError('The Authorization header is too large');

  const token = isPlainBearer(header) ? header.slice(7) : credentialsOf(header);
  if (!token) throw new InvalidRequestError('The Bearer credentials are empty');
  if (bodyToken) throw new InvalidRequestError('Send the access token once: both an Authorization header and a body access_token were sent');
  return token;
}

/**
 * The refusal of a token that is not RFC 6750 §2.1 `b64token` (RFC 7235 token68) syntax, else
 * `undefined`. bearerAuth() asks only about tokens its verifier cannot answer from memory: one it
 * can was verified before, syntax included.
 */
export function token68Error(token: string): InvalidRequestError | undefined {
  return TOKEN68.test(token) ? undefined : new InvalidRequestError('The Bearer token is not valid token68 syntax');
}

/** `Bearer <x>` with one space and no surrounding whitespace: what nearly every client sends. */
function isPlainBearer(header: string): boolean {
  return (
    header.length > 7 &&
    header.charCodeAt(6) === 32 &&
    header.charCodeAt(7) > 32 &&
    header.charCodeAt(header.length - 1) > 32 &&
    // "bearer" in any case, without a lowercased copy: | 0x20 lowercases an ASCII letter and maps
    // nothing else onto one.
    (header.charCodeAt(0) | 0x20) === 0x62 &&
    (header.charCodeAt(1) | 0x20) === 0x65 &&
    (header.charCodeAt(2) | 0x20) === 0x61 &&
    (header.charCodeAt(3) | 0x20) === 0x72 &&
    (header.charCodeAt(4) | 0x20) === 0x65 &&
    (header.charCodeAt(5) | 0x20) === 0x72
  );
}

/** Any other spelling, parsed by the RFC 7235 grammar: the credentials of a Bearer header. */
function credentialsOf(header: string): string | undefined {
  // Only SP and HTAB are optional whitespace (RFC 7230 §3.2.3), not everything String#trim drops.
  const match = CREDENTIALS.exec(header.replace(/^[ \t]+|[ \t]+$/g, ''));
  if (!match) throw new InvalidRequestError('The Authorization header is malformed');
  if (match[1]!.toLowerCase() !== 'bearer') {
    // Another authentication method: the request has no bearer credentials (RFC 6750 §3.1).
    throw new MissingCredentialsError('The Authorization header does not use the Bearer scheme');
  }
  return match[2];
}

/** A form-encoded body's `access_token` (RFC 6750 §2.2), when a body parser has already run. */
function formBodyToken(req: IncomingMessage): boolean {
  const body = (req as IncomingMessage & { body?: unknown }).body;
  return body !== null && typeof body === 'object' && Object.hasOwn(body, 'access_token');
}

/** A header name, case-insensitive (RFC 9110 §5.1); the two usual spellings compared without a copy. */
function isHeaderName(name: string, canonical: string, lower: string): boolean {
  return name === canonical || name === lower || name.toLowerCase() === lower;
}
