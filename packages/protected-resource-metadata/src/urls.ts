import { isIP } from 'node:net';
import { ConfigurationError } from '@portcullis/token-verification';

/** Loopback hosts for which plain `http` is allowed (OAuth 2.1 §1.5, RFC 8252 §8.3). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

export interface UrlRules {
  /** Reject a query component too (issuers, RFC 8414 §2). */
  readonly noQuery?: boolean;
}

/**
 * Parses an absolute `http(s)` URL given as configuration: `https` unless the host is loopback,
 * no fragment, no userinfo. Throws a {@link ConfigurationError} naming `option`.
 */
export function parseConfiguredUrl(value: unknown, option: string, rules: UrlRules = {}): URL {
  if (!(value instanceof URL) && typeof value !== 'string') {
    throw new ConfigurationError('ERR_INVALID_URL', `${option} must be an absolute URL (string or URL), got ${typeof value}`);
  }
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new ConfigurationError('ERR_INVALID_URL', `${option} must be an absolute URL, got ${JSON.stringify(String(value))}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigurationError('ERR_INVALID_URL', `${option} must use https, got ${url.protocol}`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ConfigurationError(
      'ERR_INSECURE_URL',
      `${option} must use https (OAuth 2.1 §1.5); plain http is allowed only for loopback hosts, got ${url.href}`,
    );
  }
  if (String(value).includes('#')) {
    throw new ConfigurationError('ERR_INVALID_URL', `${option} must not contain a fragment (RFC 9728 §1.2), got ${String(value)}`);
  }
  if (url.username || url.password) {
    throw new ConfigurationError('ERR_INVALID_URL', `${option} must not contain credentials`);
  }
  if (rules.noQuery && url.search) {
    throw new ConfigurationError('ERR_INVALID_URL', `${option} must not contain a query component, got ${url.href}`);
  }
  return url;
}

/**
 * The canonical string form of a resource identifier (MCP §Canonical Server URI, S-25): scheme and
 * host lower-cased by URL parsing, and no trailing slash when the path is only `/`. A trailing slash
 * on a longer path is kept: it may be significant.
 */
export function canonicalResource(url: URL): string {
  return url.pathname === '/' && !url.search ? url.origin : url.href;
}

/**
 * Whether URL parsing reads `value` as written, up to normalisation (case of scheme and host, a
 * default port, IPv6 and IDNA forms, percent-encoding). Parsing also repairs, and a string it had to
 * repair is not the identifier it parses to: it drops surrounding spaces and controls and any tab or
 * newline, turns `\` into `/`, supplies a missing `//` and resolves dot segments (`%2e%2e` too).
 */
export function parsesWithoutRepair(value: string): boolean {
  if (/^[\x00-\x20]|[\x00-\x20]$|[\t\n\r\\]/.test(value) || !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) return false;
  const path = value.replace(/^[^:]*:\/\/[^/?#]*/, '').split(/[?#]/, 1)[0]!;
  return !path.split('/').some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
}

/**
 * Whether two resource identifiers name the same resource: equal after canonicalisation (S-25: the
 * case of scheme and host, the root path's slash), and a string only if URL parsing did not have to
 * repair it (see {@link parsesWithoutRepair}): `aud` values are compared as strings (RFC 7519 §2, RFC 9068 §4),
 * and `https://mcp.example.com/tenant-b/%2e%2e/mcp` is not `https://mcp.example.com/mcp`.
 */
export function sameResource(a: URL | string, b: URL | string): boolean {
  const canonical = (value: URL | string): string | undefined => {
    if (value instanceof URL) return canonicalResource(value);
    const url = URL.parse(value);
    return url && parsesWithoutRepair(value) ? canonicalResource(url) : undefined;
  };
  const left = canonical(a);
  return left !== undefined && left === canonical(b);
}

/**
 * RFC 9728 §3.1: the well-known URI is formed by inserting `/.well-known/oauth-protected-resource`
 * between the host and the path of the resource identifier. Returns the path part.
 */
export function wellKnownPath(resource: URL, suffix = 'oauth-protected-resource'): string {
  const path = resource.pathname === '/' ? '' : resource.pathname;
  return `/.well-known/${suffix}${path}`;
}
