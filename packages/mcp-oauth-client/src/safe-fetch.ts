import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction as NodeLookupFunction } from 'node:net';
import { isNativeError } from 'node:util/types';
import { McpOAuthError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';
import { scrubbed } from './scrubbed-error.js';

/** The `fetch` shape this package calls and returns. */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** One resolved address. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has (like `dns.promises.lookup(host, { all: true })`). */
export type HostLookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** What a {@link SafeFetchTransport} is asked to send: one hop, already checked, pinned to `address`. */
export interface TransportRequest {
  readonly url: URL;
  /** The checked address to connect to; the transport must not resolve the host name again (C-47). */
  readonly address: ResolvedAddress;
  readonly method: string;
  readonly headers: Headers;
  readonly body: Uint8Array | undefined;
  readonly signal: AbortSignal;
  readonly maxResponseBytes: number;
}

/** Sends one request without following redirects. The default uses `node:http`/`node:https`. */
export type SafeFetchTransport = (request: TransportRequest) => Promise<Response>;

/** Options of {@link createSafeFetch}. */
export interface SafeFetchOptions {
  /**
   * INSECURE, development and test only: allow `http:` and `https:` to loopback hosts (`localhost`,
   * `127.0.0.0/8`, `::1`). Without it every loopback target is refused, whatever the scheme (C-44).
   * Default `false`.
   */
  readonly allowInsecureLoopback?: boolean;
  /** DNS resolution. Default `dns.promises.lookup(host, { all: true })`. Inject to test refusals offline. */
  readonly lookup?: HostLookup;
  /** How one checked hop is sent. Default: `node:http(s)` connecting to the checked address only. */
  readonly transport?: SafeFetchTransport;
  /** Redirect hops followed (each one checked again, C-46). Default 5. */
  readonly maxRedirects?: number;
  /** Largest response body accepted, in bytes. Default 1 MiB. */
  readonly maxResponseBytes?: number;
  /** Time allowed for a whole request including redirects and body, in ms. Default 10 000. */
  readonly timeoutMs?: number;
}

const SAFE_FETCH_OPTIONS: KnownOptions<SafeFetchOptions> = {
  allowInsecureLoopback: true,
  lookup: true,
  transport: true,
  maxRedirects: true,
  maxResponseBytes: true,
  timeoutMs: true,
};

// Ranges never fetched from a non-loopback host name (C-45, RFC 6890 special-purpose registries).
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv4');
// ::/96 holds the unspecified and loopback addresses and the deprecated IPv4-compatible ones
// (RFC 4291 §2.5.5.1); ::ffff:0:0:0/96 the IPv4-translated ones (RFC 2765 §2.1). IPv4-mapped
// addresses (::ffff:0:0/96) need no entry: BlockList checks them against the IPv4 ranges. NAT64's
// well-known prefix (64:ff9b::/96) is judged by the IPv4 address it carries (see embeddedIPv4):
// on an IPv6-only network it is how every IPv4-only host is reached.
for (const [net, prefix] of [
  ['::', 96], ['::ffff:0:0:0', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23],
  ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv6');

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True when `address` is in a private, loopback, link-local, cloud-metadata or otherwise special range (C-45). */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  // A zone index (fe80::1%eth0) scopes the address to one link: never a public destination.
  if (address.includes('%') || BLOCKED.check(address, 'ipv6')) return true;
  let embedded: string | undefined;
  try {
    embedded = embeddedIPv4(address);
  } catch {
    return true; // a form URL's parser does not take: refused rather than guessed at
  }
  return embedded !== undefined && BLOCKED.check(embedded, 'ipv4');
}

/**
 * The IPv4 address an IPv6 address leads to, where it carries one that a host may reach through
 * it: 6to4 (2002::/16, RFC 3056 §2: bits 16-47; on a host with a 6to4 tunnel, 2002:a00:5:: goes
 * over IPv4 to 10.0.0.5) and NAT64's well-known prefix (64:ff9b::/96, RFC 6052 §2.1: the last 32
 * bits). Else `undefined`.
 */
function embeddedIPv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  const quad = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  if (groups[0] === 0x2002) return quad(groups[1]!, groups[2]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return quad(groups[6]!, groups[7]!);
  return undefined;
}

/** The eight 16-bit groups of a valid IPv6 literal. */
function ipv6Groups(address: string): number[] {
  // URL's parser normalises the literal (hex groups, no dotted quad, "::" for the longest zero run).
  const [head = '', tail] = new URL(`http://[${address}]/`).hostname.slice(1, -1).split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const before = parse(head);
  const after = tail === undefined ? [] : parse(tail);
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
}

/** True for a loopback address (`127.0.0.0/8`, `::1`). */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The host name without IPv6 brackets. The WHATWG URL parser has already normalised IPv4 forms (octal, hex). */
function bareHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * True when the URL's host is one of the three loopback names a redirect or authorization URL may use
 * over plain http (RFC 8252 §7.3, §8.3): narrower than {@link isLoopbackHost}, on purpose.
 */
export function isLoopbackHttpName(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
}

/** True when the URL names a loopback host: `localhost`, `*.localhost` (RFC 6761 §6.3) or a loopback literal. */
export function isLoopbackHost(url: URL): boolean {
  const host = bareHostname(url).toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || isLoopbackAddress(host);
}

/**
 * The pure half of the guard: refuses a URL by scheme and host before any I/O (C-44, C-48).
 * `https:` anywhere public; loopback only with `allowInsecureLoopback`; no credentials in the URL.
 */
export function assertFetchableUrl(url: URL, options: Pick<SafeFetchOptions, 'allowInsecureLoopback'> = {}): void {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new McpOAuthError('ssrf_blocked', `Refusing to fetch ${url.protocol} URL ${url.origin}: only https is allowed`);
  }
  if (url.username || url.password) {
    throw new McpOAuthError('ssrf_blocked', `Refusing to fetch a URL with credentials (${url.host})`);
  }
  const loopback = isLoopbackHost(url);
  if (loopback && !options.allowInsecureLoopback) {
    throw new McpOAuthError('ssrf_blocked', `Refusing to fetch loopback URL ${url.origin}; set allowInsecureLoopback for local development`);
  }
  if (url.protocol === 'http:' && !loopback) {
    throw new McpOAuthError('ssrf_blocked', `Refusing to fetch ${url.origin} over plain http: only https is allowed for non-loopback hosts`);
  }
}

/**
 * The address half of the guard: every resolved address must be public for a public host name, and
 * loopback for a loopback host name (so `localhost` cannot be rebound to 10.0.0.5, nor `evil.example` to 127.0.0.1).
 */
export function assertResolvedAddresses(url: URL, addresses: readonly ResolvedAddress[]): void {
  if (addresses.length === 0) throw new McpOAuthError('fetch_failed', `No address for ${url.hostname}`);
  const loopback = isLoopbackHost(url);
  for (const { address } of addresses) {
    if (loopback ? !isLoopbackAddress(address) : isBlockedAddress(address)) {
      throw new McpOAuthError('ssrf_blocked', `Refusing to fetch ${url.origin}: it resolves to the non-public address ${address}`);
    }
  }
}

const defaultLookup: HostLookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** Sends one hop with node:http(s), connecting to the pre-checked address only (DNS pinned between check and use). */
export const nodeTransport: SafeFetchTransport = (req) =>
  new Promise<Response>((resolve, reject) => {
    const pinned: NodeLookupFunction = ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
      if (opts.all) cb(null, [{ address: req.address.address, family: req.address.family }]);
      else cb(null, req.address.address, req.address.family);
    }) as unknown as NodeLookupFunction;
    const send = req.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string | string[]> = {};
    req.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (req.body) headers['content-length'] = String(req.body.byteLength);
    const outgoing = send(req.url, { method: req.method, headers, lookup: pinned, signal: req.signal }, (res: IncomingMessage) => {
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > req.maxResponseBytes) {
        res.destroy();
        reject(new McpOAuthError('fetch_failed', `Response from ${req.url.origin} is larger than ${req.maxResponseBytes} bytes`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > req.maxResponseBytes) {
          res.destroy();
          reject(new McpOAuthError('fetch_failed', `Response from ${req.url.origin} is larger than ${req.maxResponseBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      let ended = false;
      res.on('error', reject);
      // A body cut off (timeout, peer reset) closes without 'end': never leave the promise pending.
      res.on('close', () => {
        if (!ended) reject(new McpOAuthError('fetch_failed', `Response from ${req.url.origin} was cut off`));
      });
      res.on('end', () => {
        ended = true;
        // A hostile peer chooses the status line and headers: anything `Response` refuses (a status
        // of 999, a header value it will not take) must reject this fetch, never throw in the
        // event handler, where it would crash the process or leave the promise pending.
        try {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 599) throw new Error(`HTTP status ${status} is outside 200-599`);
          const responseHeaders = new Headers();
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          const nullBody = status === 204 || status === 205 || status === 304;
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: responseHeaders }));
        } catch (cause) {
          reject(new McpOAuthError('fetch_failed', `Response from ${req.url.origin} is not valid HTTP`, { cause }));
        }
      });
    });
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });

/** Marks the errors this package's safe fetch raised before its first request left (a refusal, a lookup that failed or timed out). */
const NOT_SENT_MARK = Symbol('portcullis.notSent');

/** Failures that happen before a request's first byte leaves: no name, no route, no listener, a certificate refused. */
const NOT_SENT = new Set([
  'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Whether a fetch failed before anything was sent (refused by the SSRF guard, a name that did not
 * resolve, a connection that was never made), judged from the error and its causes: the peer cannot
 * have acted on such a request. A timeout or a reset after connecting is not one of these, nor a
 * refusal of a redirect hop (the first request was sent).
 */
export function failedBeforeSending(error: unknown): boolean {
  // isNativeError: errors Node raises come from its own realm, where `instanceof Error` can fail (vm, jest).
  for (let e: unknown = error, depth = 0; (e instanceof Error || isNativeError(e)) && depth < 5; e = (e as Error).cause, depth++) {
    if ((e as { [NOT_SENT_MARK]?: boolean })[NOT_SENT_MARK] === true) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT.has(code)) return true;
  }
  return false;
}

/**
 * `lookup(host)` within the request's time limit and the caller's signal: a resolver that hangs
 * (getaddrinfo retries for tens of seconds) must not outlive either. Its failures are typed.
 */
async function resolveHost(lookup: HostLookup, host: string, signal: AbortSignal): Promise<readonly ResolvedAddress[]> {
  let stop: () => void = () => {};
  try {
    signal.throwIfAborted();
    const aborted = new Promise<never>((_, reject) => {
      stop = () => reject(signal.reason);
      signal.addEventListener('abort', stop, { once: true });
    });
    // Called inside a promise: a lookup that throws instead of rejecting is typed like the others.
    return await Promise.race([Promise.resolve(host).then(lookup), aborted]);
  } catch (cause) {
    if (cause instanceof McpOAuthError) throw cause;
    const why = signal.aborted ? 'timed out or was aborted' : 'failed';
    throw new McpOAuthError('fetch_failed', `Resolving ${host} ${why}`, { cause });
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

async function bodyBytes(body: RequestInit['body']): Promise<Uint8Array | undefined> {
  if (body === undefined || body === null) return undefined;
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/**
 * A caller's own `oauthFetch`, failing as the safe fetch does: anything it throws that is not already
 * an {@link McpOAuthError} becomes `fetch_failed`, a scrubbed copy of the original as `cause` (its
 * name, message and code: {@link failedBeforeSending} still reads the code).
 */
export function withTypedFailures(fetch: FetchLike): FetchLike {
  return async (input, init) => {
    try {
      return await fetch(input, init);
    } catch (error) {
      if (error instanceof McpOAuthError) throw error;
      const url = URL.parse(String(input));
      // Scrubbed: a fetch wrapper may hang the request, body and all, on its error.
      throw new McpOAuthError('fetch_failed', url ? `Request to ${url.origin}${url.pathname} failed` : 'Request failed', { cause: scrubbed(error) });
    }
  };
}

/**
 * A `fetch` with an SSRF guard, used for everything this package fetches on its own (metadata,
 * registration, token and authorization endpoints) — C-43…C-47. Per hop: scheme and host checked
 * ({@link assertFetchableUrl}), the name resolved through `lookup` and every address checked
 * ({@link assertResolvedAddresses}), the connection pinned to a checked address; redirects followed
 * by hand (never for `redirect: 'manual'`), each hop checked again; size and time limits.
 */
export function createSafeFetch(options: SafeFetchOptions = {}): FetchLike {
  assertKnownOptions(options, SAFE_FETCH_OPTIONS, 'createSafeFetch options');
  const lookup = options.lookup ?? defaultLookup;
  const transport = options.transport ?? nodeTransport;
  const maxRedirects = options.maxRedirects ?? 5;
  const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isInteger(maxRedirects) || maxRedirects < 0) throw new McpOAuthError('invalid_options', 'maxRedirects must be a non-negative integer');

  return async (input, init = {}) => {
    let url = new URL(String(input instanceof URL ? input.href : input));
    let method = (init.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers);
    let body = await bodyBytes(init.body);
    const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    for (let hop = 0; ; hop++) {
      let addresses: readonly ResolvedAddress[];
      try {
        assertFetchableUrl(url, options);
        const host = bareHostname(url);
        addresses = isIP(host) ? [{ address: host, family: isIP(host) as 4 | 6 }] : await resolveHost(lookup, host, signal);
        assertResolvedAddresses(url, addresses);
      } catch (error) {
        // Before the first hop's transport nothing has left this machine (see failedBeforeSending);
        // a later hop's refusal comes after a request that was sent.
        if (hop === 0 && error instanceof McpOAuthError) Object.defineProperty(error, NOT_SENT_MARK, { value: true });
        throw error;
      }
      let response: Response;
      try {
        response = await transport({ url, address: addresses[0]!, method, headers: new Headers(headers), body, signal, maxResponseBytes });
      } catch (error) {
        if (error instanceof McpOAuthError) throw error;
        throw new McpOAuthError('fetch_failed', `Request to ${url.origin}${url.pathname} failed`, { cause: error });
      }
      const location = response.headers.get('location');
      if (init.redirect === 'manual' || ![301, 302, 303, 307, 308].includes(response.status) || !location) return response;
      if (init.redirect === 'error') throw new McpOAuthError('fetch_failed', `Unexpected redirect from ${url.origin}${url.pathname}`);
      if (hop >= maxRedirects) throw new McpOAuthError('fetch_failed', `Too many redirects fetching ${url.origin}${url.pathname}`);
      const next = URL.parse(location, url.href);
      if (!next) throw new McpOAuthError('fetch_failed', `Redirect from ${url.origin}${url.pathname} to an invalid location`);
      // allowInsecureLoopback is for servers on this machine: a remote server may not bounce the
      // client onto it (C-44, C-45).
      if (isLoopbackHost(next) && !isLoopbackHost(url)) {
        throw new McpOAuthError('ssrf_blocked', `Refusing a redirect from ${url.origin} to the loopback host ${next.origin}`);
      }
      const keepsBody = response.status === 307 || response.status === 308;
      // A body (a token request's grant, an ID token) is never re-sent to another origin.
      if (keepsBody && body !== undefined && next.origin !== url.origin) {
        throw new McpOAuthError('fetch_failed', `Refusing to re-send a request body from ${url.origin} to ${next.origin} (HTTP ${response.status})`);
      }
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        headers.delete('content-type');
      }
      // Never carry credentials to another origin.
      if (next.origin !== url.origin) {
        headers.delete('authorization');
        headers.delete('cookie');
        headers.delete('dpop');
      }
      url = next;
    }
  };
}
