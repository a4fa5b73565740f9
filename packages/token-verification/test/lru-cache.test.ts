import { describe, expect, it } from '@jest/globals';
import { ExpiringLru, tokenHash } from '../src/lru-cache.js';

describe('the token cache (S-22: never the raw token)', () => {
  it('keys are SHA-256 hashes of the token, not the token', () => {
    const token = 'secret-access-token';
    const key = tokenHash(token);
    expect(key).not.toContain(token);
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokenHash(token)).toBe(key);
    expect(tokenHash(`${token}x`)).not.toBe(key);
  });

  it('expires entries and evicts the least recently used', () => {
    const lru = new ExpiringLru<number>(2);
    lru.set('a', 1, 100);
    lru.set('b', 2, 100);
    expect(lru.get('a', 50)).toBe(1); // a is now most recent
    lru.set('c', 3, 100); // evicts b
    expect(lru.get('b', 50)).toBeUndefined();
    expect(lru.get('a', 50)).toBe(1);
    expect(lru.get('c', 100)).toBeUndefined(); // expired at 100
    expect(lru.size).toBe(1);
  });
});
