import { describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '@portcullis/token-verification';
import { createClientCredentialsSource, createTokenExchanger, type TokenCacheOptions } from '../src/index.js';
import { cacheKey, createTokenCache, type UpstreamToken } from '../src/token-cache.js';

const token = (value: string, expiresAt?: number): UpstreamToken => ({ accessToken: value, tokenType: 'Bearer', ...(expiresAt !== undefined && { expiresAt }) });

describe('token cache (pure)', () => {
  it('keys are SHA-256 digests: the raw subject token never appears, and tuples cannot collide by concatenation', () => {
    const key = cacheKey('eyJ.secret-subject.token', 'https://api.example', '', '');
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain('secret');
    expect(cacheKey('ab', 'c')).not.toBe(cacheKey('a', 'bc'));
  });

  it('is bounded: the least recently used entry goes first', async () => {
    const cache = createTokenCache({ maxEntries: 2 }, () => 0);
    let loads = 0;
    const load = (v: string) => async () => {
      loads++;
      return token(v, 3600);
    };
    await cache.get('a', load('a'));
    await cache.get('b', load('b'));
    await cache.get('a', load('a')); // a is now the most recent
    await cache.get('c', load('c')); // evicts b
    expect(loads).toBe(3);
    await cache.get('a', load('a'));
    expect(loads).toBe(3);
    await cache.get('b', load('b'));
    expect(loads).toBe(4);
  });

  it('does not cache a token without an expiry, nor a failure', async () => {
    const cache = createTokenCache({}, () => 0);
    let loads = 0;
    await cache.get('k', async () => (loads++, token('t')));
    await cache.get('k', async () => (loads++, token('t')));
    await expect(cache.get('f', async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    await cache.get('f', async () => (loads++, token('t', 3600)));
    expect(loads).toBe(3);
  });

  it.each<[string, TokenCacheOptions]>([
    ['a negative skewSeconds', { skewSeconds: -30 }],
    ['a NaN skewSeconds', { skewSeconds: Number.NaN }],
    ['an infinite skewSeconds', { skewSeconds: Number.POSITIVE_INFINITY }],
    ['a NaN maxEntries', { maxEntries: Number.NaN }],
    ['a fractional maxEntries', { maxEntries: 1.5 }],
    ['a zero maxEntries', { maxEntries: 0 }],
    ['a negative maxEntries', { maxEntries: -1 }],
  ])('%s is a ConfigurationError at construction, in both factories', (_name, cache) => {
    const common = { tokenEndpoint: 'https://as.example/token', client: { method: 'client_secret_basic', clientId: 'mcp-server', clientSecret: 'server-secret' }, cache } as const;
    expect(() => createTokenExchanger(common)).toThrow(ConfigurationError);
    expect(() => createClientCredentialsSource(common)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }));
  });
});
