/**
 * Internal: a small bounded LRU with per-entry expiry, keyed by a SHA-256 of the token so that the
 * cache never holds a raw token (S-22: a heap dump must not leak credentials).
 */
import { createHash } from 'node:crypto';

/** SHA-256 of the token, base64url: the only form in which a token is ever used as a key. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export class ExpiringLru<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  constructor(readonly maxEntries: number) {}

  /** The value, if present and not expired at `now` (seconds); refreshes its recency. */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores until `expiresAt` (seconds); evicts the least recently used entry when full. */
  set(key: string, value: V, expiresAt: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
