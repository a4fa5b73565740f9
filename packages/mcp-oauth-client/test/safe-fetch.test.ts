import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { McpOAuthError } from '../src/errors.js';
import { createSafeFetch, failedBeforeSending, isBlockedAddress, withTypedFailures, type HostLookup, type TransportRequest } from '../src/safe-fetch.js';

/** A transport that records what it was asked to send and never connects anywhere. */
function recordingTransport(respond: (req: TransportRequest) => Response = () => Response.json({ ok: true })) {
  const attempts: TransportRequest[] = [];
  return { attempts, transport: async (req: TransportRequest) => (attempts.push(req), respond(req)) };
}
const resolvesTo = (...addresses: string[]): HostLookup => async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

async function refusal(promise: Promise<unknown>): Promise<McpOAuthError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(McpOAuthError);
  return error as McpOAuthError;
}

describe('createSafeFetch refusals (C-43…C-46), without connecting', () => {
  it.each([
    ['10.0.0.5 (RFC 1918)', '10.0.0.5'],
    ['169.254.169.254 (cloud metadata)', '169.254.169.254'],
    ['192.168.1.1 (RFC 1918)', '192.168.1.1'],
    ['172.16.3.4 (RFC 1918)', '172.16.3.4'],
    ['127.0.0.1 (loopback behind a public name: DNS rebinding)', '127.0.0.1'],
    ['fe80::1 (link-local)', 'fe80::1'],
    ['fd00::1 (unique local)', 'fd00::1'],
    ['::ffff:10.0.0.5 (IPv4-mapped)', '::ffff:10.0.0.5'],
    ['100.64.0.1 (CGNAT)', '100.64.0.1'],
    ['::10.0.0.5 (IPv4-compatible, deprecated)', '::10.0.0.5'],
    ['::ffff:0:a9fe:a9fe (IPv4-translated metadata address)', '::ffff:0:a9fe:a9fe'],
    ['2002:a9fe:a9fe::1 (6to4 around the metadata address)', '2002:a9fe:a9fe::1'],
    ['2002:c0a8:101:: (6to4 around 192.168.1.1)', '2002:c0a8:101::'],
    ['64:ff9b::a9fe:a9fe (NAT64 around the metadata address)', '64:ff9b::a9fe:a9fe'],
    ['2606:4700::1%eth0 (zone index)', '2606:4700::1%eth0'],
  ])('C-45 refuses a public host name resolving to %s', async (_title, address) => {
    const { attempts, transport } = recordingTransport();
    const fetch = createSafeFetch({ lookup: resolvesTo(address), transport });
    expect((await refusal(fetch('https://as.example.com/.well-known/oauth-authorization-server'))).code).toBe('ssrf_blocked');
    expect(attempts).toHaveLength(0);
  });

  it('C-45 refuses when any one of several addresses is private', async () => {
    const { attempts, transport } = recordingTransport();
    const fetch = createSafeFetch({ lookup: resolvesTo('93.184.215.14', '10.0.0.5'), transport });
    expect((await refusal(fetch('https://as.example.com/'))).code).toBe('ssrf_blocked');
    expect(attempts).toHaveLength(0);
  });

  it.each([
    ['decimal', 'https://167772165/'],
    ['hex', 'https://0xa000005/'],
    ['octal', 'https://012.0.0.5/'],
    ['short form', 'https://10.5/'],
    ['metadata literal', 'https://169.254.169.254/latest/meta-data/'],
    ['IPv6 literal', 'https://[fe80::1]/'],
    ['IPv4-compatible IPv6 literal', 'https://[::10.0.0.5]/'],
    ['6to4 literal around the metadata address', 'https://[2002:a9fe:a9fe::]/latest/meta-data/'],
  ])('C-45 refuses private IP literals in %s form without any lookup', async (_title, url) => {
    const { attempts, transport } = recordingTransport();
    let lookups = 0;
    const fetch = createSafeFetch({ lookup: async () => (lookups++, []), transport });
    expect((await refusal(fetch(url))).code).toBe('ssrf_blocked');
    expect(attempts).toHaveLength(0);
    expect(lookups).toBe(0);
  });

  it.each([
    ['plain http to a public host', 'http://as.example.com/token'],
    ['file:', 'file:///etc/passwd'],
    ['javascript:', 'javascript:alert(1)'],
    ['data:', 'data:text/plain,hi'],
    ['credentials in the URL', 'https://user:pass@as.example.com/'],
  ])('C-44 refuses %s', async (_title, url) => {
    const { attempts, transport } = recordingTransport();
    const fetch = createSafeFetch({ lookup: resolvesTo('93.184.215.14'), transport });
    expect((await refusal(fetch(url))).code).toBe('ssrf_blocked');
    expect(attempts).toHaveLength(0);
  });

  it('C-44 refuses loopback without allowInsecureLoopback, even over https', async () => {
    const { attempts, transport } = recordingTransport();
    const fetch = createSafeFetch({ transport });
    for (const url of ['http://127.0.0.1:8080/', 'https://localhost/', 'http://[::1]/', 'http://app.localhost/']) {
      expect((await refusal(fetch(url))).code).toBe('ssrf_blocked');
    }
    expect(attempts).toHaveLength(0);
  });

  it('C-45 refuses "localhost" resolving to a non-loopback address even with allowInsecureLoopback', async () => {
    const { attempts, transport } = recordingTransport();
    const fetch = createSafeFetch({ allowInsecureLoopback: true, lookup: resolvesTo('10.0.0.5'), transport });
    expect((await refusal(fetch('http://localhost:3000/mcp'))).code).toBe('ssrf_blocked');
    expect(attempts).toHaveLength(0);
  });

  it('C-46 checks every redirect hop: a public URL redirecting to the metadata service is refused', async () => {
    const { attempts, transport } = recordingTransport(() => new Response(null, { status: 302, headers: { location: 'https://metadata.internal/latest' } }));
    const lookup: HostLookup = async (host) => [{ address: host === 'as.example.com' ? '93.184.215.14' : '169.254.169.254', family: 4 }];
    const fetch = createSafeFetch({ lookup, transport });
    expect((await refusal(fetch('https://as.example.com/.well-known/openid-configuration'))).code).toBe('ssrf_blocked');
    expect(attempts.map((a) => a.url.hostname)).toEqual(['as.example.com']);
  });

  it('C-47 pins the connection to the checked address', async () => {
    const { attempts, transport } = recordingTransport();
    const fetch = createSafeFetch({ lookup: resolvesTo('93.184.215.14'), transport });
    await fetch('https://as.example.com/x');
    expect(attempts[0]?.address).toEqual({ address: '93.184.215.14', family: 4 });
  });

  it('C-46 caps redirects and drops credentials across origins', async () => {
    let n = 0;
    const { attempts, transport } = recordingTransport(() => new Response(null, { status: 307, headers: { location: `https://hop${++n}.example.com/` } }));
    const fetch = createSafeFetch({ lookup: resolvesTo('93.184.215.14'), transport, maxRedirects: 2 });
    expect((await refusal(fetch('https://as.example.com/', { headers: { authorization: 'Bearer secret' } }))).code).toBe('fetch_failed');
    expect(attempts).toHaveLength(3);
    expect(attempts[0]?.headers.get('authorization')).toBe('Bearer secret');
    expect(attempts[1]?.headers.get('authorization')).toBeNull();
  });

  it('bounds the DNS lookup by the time limit: a resolver that never answers fails the fetch, typed, before any connection', async () => {
    const { attempts, transport } = recordingTransport();
    const fetch = createSafeFetch({ lookup: () => new Promise(() => {}), transport, timeoutMs: 50 });
    const error = await refusal(fetch('https://as.example.com/'));
    expect(error.code).toBe('fetch_failed');
    expect(error.message).toContain('Resolving as.example.com timed out');
    expect(attempts).toHaveLength(0);
  });

  it("bounds the DNS lookup by the caller's signal", async () => {
    const { transport } = recordingTransport();
    const fetch = createSafeFetch({ lookup: () => new Promise(() => {}), transport });
    const controller = new AbortController();
    const pending = refusal(fetch('https://as.example.com/', { signal: controller.signal }));
    controller.abort(new Error('user cancelled'));
    expect((await pending).code).toBe('fetch_failed');
  });

  it('types a lookup that throws instead of rejecting, also under a signal already aborted, leaving nothing unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const broken = () => {
        throw new Error('resolver broke');
      };
      const fetch = createSafeFetch({ lookup: broken, transport: recordingTransport().transport });
      expect((await refusal(fetch('https://as.example.com/'))).code).toBe('fetch_failed');
      expect((await refusal(fetch('https://as.example.com/', { signal: AbortSignal.abort(new Error('gone')) }))).code).toBe('fetch_failed');
      await new Promise((resolve) => setTimeout(resolve, 10)); // unhandled rejections are reported after a turn
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('types a failed DNS lookup as fetch_failed, keeping the cause', async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND as.example.com'), { code: 'ENOTFOUND' });
    const fetch = createSafeFetch({ lookup: async () => Promise.reject(notFound), transport: recordingTransport().transport });
    const error = await refusal(fetch('https://as.example.com/'));
    expect(error.code).toBe('fetch_failed');
    expect(error.cause).toBe(notFound);
  });

  it('returns a redirect as-is with redirect: "manual"', async () => {
    const { transport } = recordingTransport(() => new Response(null, { status: 302, headers: { location: 'https://10.0.0.5/' } }));
    const fetch = createSafeFetch({ lookup: resolvesTo('93.184.215.14'), transport });
    expect((await fetch('https://as.example.com/', { redirect: 'manual' })).status).toBe(302);
  });

  it('isBlockedAddress covers the C-45 list and leaves public addresses alone', () => {
    for (const a of ['10.1.2.3', '172.31.0.1', '192.168.0.1', '127.0.0.1', '169.254.169.254', '::1', 'fc00::1', 'fe80::1', '0.0.0.0']) expect(isBlockedAddress(a)).toBe(true);
    for (const a of ['93.184.215.14', '2606:2800:220:1::1', '8.8.8.8']) expect(isBlockedAddress(a)).toBe(false);
    // IPv6 forms that embed an IPv4 address are judged by it where it can be reached through them.
    // NAT64 (64:ff9b::/96) is how an IPv6-only network reaches IPv4-only hosts: judged by the IPv4 address too.
    for (const a of ['::ffff:8.8.8.8', '2002:808:808::1', '2002:0808:0808:0:0:0:0:1', '64:ff9b::808:808', '64:ff9b::8.8.8.8']) expect(isBlockedAddress(a)).toBe(false);
    for (const a of ['::ffff:10.1.2.3', '2002:a01:203::', '2002::', '2002:a00::', '::2', '::ffff:0:8.8.8.8', '64:ff9b::a9fe:a9fe', '64:ff9b::10.0.0.5', '64:ff9b::']) {
      expect(isBlockedAddress(a)).toBe(true);
    }
    expect(isBlockedAddress('not-an-ip')).toBe(true);
  });
});

describe('createSafeFetch over real loopback HTTP (allowInsecureLoopback)', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/big') res.end('x'.repeat(4096));
      else if (req.url === '/hang') return;
      else if (req.url === '/hang-body') res.writeHead(200, { 'content-type': 'application/json' }).write('{"partial":');
      else if (req.url === '/redirect') res.writeHead(302, { location: '/json' }).end();
      else if (req.url === '/escape') res.writeHead(302, { location: 'http://10.0.0.5/' }).end();
      else res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fetches, follows a same-host redirect and keeps repeated headers', async () => {
    const fetch = createSafeFetch({ allowInsecureLoopback: true });
    const response = await fetch(`${base}/redirect`);
    expect(await response.json()).toEqual({ ok: true });
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });
  it('refuses a loopback redirect to a private address', async () => {
    const fetch = createSafeFetch({ allowInsecureLoopback: true });
    expect((await refusal(fetch(`${base}/escape`))).code).toBe('ssrf_blocked');
  });
  it('enforces the size limit', async () => {
    const fetch = createSafeFetch({ allowInsecureLoopback: true, maxResponseBytes: 1000 });
    expect((await refusal(fetch(`${base}/big`))).code).toBe('fetch_failed');
  });
  it('enforces the timeout', async () => {
    const fetch = createSafeFetch({ allowInsecureLoopback: true, timeoutMs: 200 });
    expect((await refusal(fetch(`${base}/hang`))).code).toBe('fetch_failed');
    expect((await refusal(fetch(`${base}/hang-body`))).code).toBe('fetch_failed');
  });
});

describe('failedBeforeSending: whether a failed request can have reached the peer (C-39: a refresh token is spent only if it may have)', () => {
  const nodeError = (code: string) => Object.assign(new Error(code), { code });
  const wrapped = (cause: unknown) => new McpOAuthError('fetch_failed', 'Request failed', { cause });
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID'])('%s: never sent', (code) => {
    expect(failedBeforeSending(wrapped(nodeError(code)))).toBe(true);
    expect(failedBeforeSending(new TypeError('fetch failed', { cause: nodeError(code) }))).toBe(true);
  });
  it.each(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT'])('%s: may have been received', (code) => {
    expect(failedBeforeSending(wrapped(nodeError(code)))).toBe(false);
  });
  it('an error without a code may have been received', () => {
    expect(failedBeforeSending(wrapped(new Error('socket hang up')))).toBe(false);
    expect(failedBeforeSending(new McpOAuthError('ssrf_blocked', 'raised elsewhere'))).toBe(false);
  });

  it('the safe fetch\'s own refusals and lookup failures before its first request were never sent; a redirect hop\'s refusal comes after one', async () => {
    const unsent = async (fetch: ReturnType<typeof createSafeFetch>) => failedBeforeSending(await refusal(fetch('https://as.example.com/token')));
    const { attempts, transport } = recordingTransport(() => new Response(null, { status: 302, headers: { location: 'https://metadata.example/latest' } }));
    expect(await unsent(createSafeFetch({ lookup: resolvesTo('169.254.169.254'), transport }))).toBe(true);
    expect(await unsent(createSafeFetch({ lookup: resolvesTo(), transport }))).toBe(true);
    expect(await unsent(createSafeFetch({ lookup: () => new Promise(() => {}), transport, timeoutMs: 50 }))).toBe(true);
    expect(await unsent(createSafeFetch({ lookup: async () => Promise.reject(Object.assign(new Error('boom'), { code: 'ESERVFAIL' })), transport }))).toBe(true);
    expect(attempts).toHaveLength(0);
    // The first request is sent (and answered with a redirect to a metadata host): its refusal is not "unsent".
    const redirectTo = (host: string): HostLookup => async (name) => [{ address: name === host ? '169.254.169.254' : '93.184.216.34', family: 4 }];
    expect(await unsent(createSafeFetch({ lookup: redirectTo('metadata.example'), transport }))).toBe(false);
    expect(attempts).toHaveLength(1);
  });
});

describe('withTypedFailures: a caller\'s own oauthFetch fails as the safe fetch does', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  it('a failure becomes fetch_failed naming the URL without its query, the original as cause, still "never sent"', async () => {
    const typed = withTypedFailures(async () => Promise.reject(new TypeError('fetch failed', { cause: refused })));
    const error = await refusal(typed('https://as.example.com/token?x=secret'));
    expect(error).toMatchObject({ name: 'McpOAuthError', code: 'fetch_failed', message: 'Request to https://as.example.com/token failed', cause: { message: 'fetch failed' } });
    expect(failedBeforeSending(error)).toBe(true);
  });
  it('its own typed refusals and its answers pass through unchanged', async () => {
    const own = new McpOAuthError('ssrf_blocked', 'refused by the caller');
    expect(await refusal(withTypedFailures(async () => Promise.reject(own))('https://as.example.com/'))).toBe(own);
    expect((await withTypedFailures(async () => new Response(null, { status: 418 }))('https://as.example.com/')).status).toBe(418);
  });
});
