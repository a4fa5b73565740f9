/**
 * Internal: option checks shared by the factories. Everything here runs at construction, so a
 * misconfiguration fails at start-up with a `ConfigurationError` that names the option.
 */
import { ConfigurationError } from './errors.js';

/** A clock: `currentDate` as given, or the wall clock. Returns seconds since the epoch. */
export type Clock = () => number;

/** `Date` (fixed, for tests) or a function returning the current date (tests that advance time). */
export type CurrentDate = Date | (() => Date);

export function clockFrom(currentDate: CurrentDate | undefined, option = 'currentDate'): Clock {
  if (currentDate === undefined) return () => Math.floor(Date.now() / 1000);
  if (currentDate instanceof Date) {
    if (Number.isNaN(currentDate.getTime())) throw new ConfigurationError('ERR_INVALID_OPTIONS', `"${option}" is an invalid Date`);
    return () => Math.floor(currentDate.getTime() / 1000);
  }
  if (typeof currentDate === 'function') return () => Math.floor(currentDate().getTime() / 1000);
  throw new ConfigurationError('ERR_INVALID_OPTIONS', `"${option}" must be a Date or a function returning a Date`);
}

/**
 * An identifier (issuer, audience) as the token will carry it. Strings are used verbatim (exact
 * comparison is the point, RFC 8414 §3.3 / RFC 9068 §4); a `URL` object is serialised without the
 * lone trailing slash `URL` adds to an origin, because issuers and resources are written that way
 * (S-25).
 */
export function identifier(value: unknown, option: string): string {
  if (value instanceof URL) {
    return value.pathname === '/' && !value.search && !value.hash ? value.href.slice(0, -1) : value.href;
  }
  if (typeof value === 'string' && value.length > 0) return value;
  throw new ConfigurationError('ERR_INVALID_OPTIONS', `"${option}" must be a non-empty string or a URL`);
}

/** One or more identifiers, de-duplicated. */
export function identifiers(value: unknown, option: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new ConfigurationError('ERR_INVALID_OPTIONS', `"${option}" must name at least one resource`);
  return [...new Set(list.map((entry, i) => identifier(entry, Array.isArray(value) ? `${option}[${i}]` : option)))];
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname);
}

/**
 * Parses a URL we will send requests to. `https:` only, except loopback `http:` (development) or
 * any `http:` with the loudly named `allowInsecureHttp` (OAuth 2.1 §1.5, S-23).
 */
export function endpointUrl(value: unknown, option: string, allowInsecureHttp: boolean): URL {
  let url: URL;
  try {
    url = value instanceof URL ? new URL(value.href) : new URL(String(value));
  } catch {
    throw new ConfigurationError('ERR_INVALID_URL', `"${option}" must be an absolute URL, got ${JSON.stringify(String(value))}`);
  }
  if (typeof value !== 'string' && !(value instanceof URL)) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', `"${option}" must be a string or a URL`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && (allowInsecureHttp || isLoopback(url))) return url;
  throw new ConfigurationError(
    'ERR_INSECURE_URL',
    `"${option}" must be an https: URL (http: is accepted for loopback hosts, or anywhere with allowInsecureHttp: true), got ${url.href}`,
  );
}

export function positiveNumber(value: unknown, option: string, fallback: number, { allowZero = false, integer = false } = {}): number {
  if (value === undefined) return fallback;
  // Finite: an infinite clockTolerance would let expired tokens through, an infinite cache age keep a removed key.
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0) || (integer && !Number.isInteger(value))) {
    throw new ConfigurationError(
      'ERR_INVALID_OPTIONS',
      `"${option}" must be a finite ${allowZero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'number'}, got ${String(value)}`,
    );
  }
  return value;
}

export function fetchOption(value: unknown, option = 'fetch'): typeof fetch {
  if (value === undefined) return (input, init) => fetch(input, init);
  if (typeof value !== 'function') throw new ConfigurationError('ERR_INVALID_OPTIONS', `"${option}" must be a fetch-compatible function`);
  return value as typeof fetch;
}
