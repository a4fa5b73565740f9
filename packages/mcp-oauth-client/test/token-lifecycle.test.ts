import { describe, expect, it } from '@jest/globals';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { refreshTokens, type TokenRequestContext } from '../src/authorization.js';
import { McpOAuthError } from '../src/errors.js';
import { createSafeFetch, type FetchLike } from '../src/safe-fetch.js';
import { createTokenLifecycle } from '../src/token-lifecycle.js';
import { asStoredTokens, createMemoryStore, type StoredTokens } from '../src/token-store.js';

const NOW = 1_700_000_000_000;
const tokens = (n: number, expiresAt: number): StoredTokens => ({
  accessToken: `at-${n}`,
  refreshToken: `rt-${n}`,
  tokenType: 'Bearer',
  expiresAt,
  issuer: 'https://as.example',
  clientId: 'c',
  resource: 'https://mcp.example/mcp',
});

describe('createTokenLifecycle', () => {
  it('returns fresh tokens without refreshing, and refreshes within the skew of the absolute expiry', async () => {
    const store = createMemoryStore();
    const lifecycle = createTokenLifecycle({ store, now: () => NOW, refreshSkewMs: 60_000 });
    let refreshes = 0;
    const refresher = async () => (refreshes++, tokens(2, NOW + 3_600_000));
    await lifecycle.save('k', tokens(1, NOW + 120_000));
    expect((await lifecycle.ensureFresh('k', refresher))?.accessToken).toBe('at-1');
    await lifecycle.save('k', tokens(1, NOW + 30_000));
    expect((await lifecycle.ensureFresh('k', refresher))?.accessToken).toBe('at-2');
    expect(refreshes).toBe(1);
  });

  it('single flight: 20 concurrent callers share one refresh', async () => {
    const store = createMemoryStore();
    const lifecycle = createTokenLifecycle({ store, now: () => NOW });
    let refreshes = 0;
    await lifecycle.save('k', tokens(1, NOW - 1));
    const refresher = async () => {
      refreshes++;
      await new Promise((resolve) => setImmediate(resolve));
      return tokens(2, NOW + 3_600_000);
    };
    const results = await Promise.all(Array.from({ length: 20 }, () => lifecycle.ensureFresh('k', refresher)));
    expect(new Set(results.map((r) => r?.accessToken))).toEqual(new Set(['at-2']));
    expect(refreshes).toBe(1);
  });

  it('refreshes a token the server rejected even before its expiry, once', async () => {
    const store = createMemoryStore();
    const lifecycle = createTokenLifecycle({ store, now: () => NOW });
    await lifecycle.save('k', tokens(1, NOW + 3_600_000));
    let refreshes = 0;
    const refresher = async () => (refreshes++, tokens(2, NOW + 3_600_000));
    expect((await lifecycle.ensureFresh('k', refresher, 'at-1'))?.accessToken).toBe('at-2');
    // A late caller that saw the same rejection gets the new tokens without a second refresh.
    expect((await lifecycle.ensureFresh('k', refresher, 'at-1'))?.accessToken).toBe('at-2');
    expect(refreshes).toBe(1);
  });

  it('on a refused refresh deletes the tokens only if they are still the ones that failed', async () => {
    const store = createMemoryStore();
    const lifecycle = createTokenLifecycle({ store, now: () => NOW });
    await lifecycle.save('k', tokens(1, NOW - 1));
    const refused = new McpOAuthError('refresh_failed', 'refused', { oauthError: 'invalid_grant' });
    await expect(lifecycle.ensureFresh('k', async () => Promise.reject(refused))).rejects.toBe(refused);
    expect(await store.get('k')).toBeUndefined();

    // Another writer stored new tokens while the refresh was in flight: they survive.
    await lifecycle.save('k', tokens(3, NOW - 1));
    await expect(
      lifecycle.ensureFresh('k', async () => {
        await store.set('k', { ...tokens(4, NOW + 3_600_000) });
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(asStoredTokens(await store.get('k'))?.refreshToken).toBe('rt-4');
  });

  it('keeps the tokens after a refresh that ended without an answer, but never sends that refresh token again', async () => {
    const store = createMemoryStore();
    const lifecycle = createTokenLifecycle({ store, now: () => NOW });
    await lifecycle.save('k', tokens(1, NOW - 1));
    const sent: string[] = [];
    const failing = async (t: StoredTokens) => {
      sent.push(t.refreshToken!);
      throw new McpOAuthError('refresh_failed', 'network down');
    };
    await expect(lifecycle.ensureFresh('k', failing)).rejects.toMatchObject({ code: 'refresh_failed' });
    expect(asStoredTokens(await store.get('k'))?.refreshToken).toBe('rt-1');
    expect(await lifecycle.ensureFresh('k', failing)).toBeUndefined();
    expect(sent).toEqual(['rt-1']);
  });

  describe('C-39 a refresh that never reached the AS spends nothing; one it may have received is never resent', () => {
    /** A loopback token endpoint: `refuse` (nothing listens on the port) or `reset` (reads the request, then drops the connection). */
    async function tokenEndpoint(mode: 'refuse' | 'reset') {
      const sockets = new Set<Socket>();
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.once('data', () => socket.destroy());
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      const { port } = server.address() as AddressInfo;
      const close = () => new Promise<void>((done) => server.close(() => done()));
      if (mode === 'refuse') await close();
      return { url: `http://127.0.0.1:${port}`, close: async () => (mode === 'reset' ? close() : undefined) };
    }
    const context = (issuer: string, fetch: FetchLike): TokenRequestContext => ({
      authorizationServer: { issuer, token_endpoint: `${issuer}/token` },
      client: { clientId: 'c', tokenEndpointAuthMethod: 'none' },
      fetch,
      allowInsecureLoopback: true,
      resource: 'https://mcp.example/mcp',
    });
    const fetches: Array<[string, FetchLike]> = [
      ['the SSRF-guarded fetch', createSafeFetch({ allowInsecureLoopback: true })],
      ['the global fetch', globalThis.fetch as FetchLike],
    ];

    /** Expired tokens in a store, and a refresher that records each refresh token it sends to the token endpoint at `url`. */
    async function expired(url: string, fetch: FetchLike) {
      const store = createMemoryStore();
      const lifecycle = createTokenLifecycle({ store, now: () => NOW });
      await lifecycle.save('k', tokens(1, NOW - 1));
      const sent: string[] = [];
      const refresher = async (t: StoredTokens) => {
        sent.push(t.refreshToken!);
        return refreshTokens(context(url, fetch), t.refreshToken!);
      };
      return { store, lifecycle, sent, refresher };
    }

    it.each(fetches)('connection refused, through %s: the next refresh sends the same refresh token', async (_, fetch) => {
      const as = await tokenEndpoint('refuse');
      const { lifecycle, sent, refresher } = await expired(as.url, fetch);
      await expect(lifecycle.ensureFresh('k', refresher)).rejects.toBeInstanceOf(McpOAuthError);
      const back = async (t: StoredTokens) => {
        sent.push(t.refreshToken!);
        return tokens(2, NOW + 3_600_000);
      };
      expect((await lifecycle.ensureFresh('k', back))?.accessToken).toBe('at-2');
      expect(sent).toEqual(['rt-1', 'rt-1']);
    });

    it.each(fetches)('connection dropped after the request was sent, through %s: that refresh token is never sent again', async (_, fetch) => {
      const as = await tokenEndpoint('reset');
      try {
        const { store, lifecycle, sent, refresher } = await expired(as.url, fetch);
        await expect(lifecycle.ensureFresh('k', refresher)).rejects.toBeInstanceOf(McpOAuthError);
        expect(await lifecycle.ensureFresh('k', refresher)).toBeUndefined();
        expect(sent).toEqual(['rt-1']);
        expect(asStoredTokens(await store.get('k'))?.refreshToken).toBe('rt-1');
      } finally {
        await as.close();
      }
    });
  });

  it('C-39 keeps using a refresh token the AS did not rotate (no new refresh_token in its answer)', async () => {
    const store = createMemoryStore();
    let clock = NOW;
    const lifecycle = createTokenLifecycle({ store, now: () => clock });
    await lifecycle.save('k', tokens(1, NOW - 1));
    const sent: string[] = [];
    // What token endpoint handling stores when the answer has no refresh_token: the previous one kept.
    const notRotating = async (t: StoredTokens): Promise<StoredTokens> => {
      sent.push(t.refreshToken!);
      return { ...tokens(sent.length + 1, clock + 3_600_000), refreshToken: t.refreshToken! };
    };
    expect((await lifecycle.ensureFresh('k', notRotating))?.accessToken).toBe('at-2');
    clock += 3_600_000;
    expect((await lifecycle.ensureFresh('k', notRotating))?.accessToken).toBe('at-3');
    expect(sent).toEqual(['rt-1', 'rt-1']);
  });

  it('returns undefined for expired tokens without a refresh token (a new grant is needed)', async () => {
    const store = createMemoryStore();
    const lifecycle = createTokenLifecycle({ store, now: () => NOW });
    const { refreshToken: _dropped, ...withoutRefresh } = tokens(1, NOW - 1);
    await lifecycle.save('k', withoutRefresh);
    expect(await lifecycle.ensureFresh('k', async () => tokens(2, NOW))).toBeUndefined();
  });
});
