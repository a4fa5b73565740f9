/**
 * Internal: a small bounded cache with per-entry expiry, keyed by a SHA-256 of the token so that the
 * cache never holds a raw token (S-22: a heap dump must not leak credentials).
 *
 * Policy: S3-FIFO (Yang et al., "FIFO queues are all you need for cache eviction", SOSP 2023),
 * not LRU. Two reasons:
 * - A hit is the hot path of every authenticated request. Under LRU every hit moves the entry
 *   (a Map delete and re-insert); here a hit is one Map lookup and a bump of a 2-bit counter on the
 *   entry: no Map mutation, no allocation. All reordering happens on eviction, amortised O(1).
 * - Scan resistance. New keys enter a small FIFO (~10% of the capacity) and leave it, unless hit
 *   meanwhile, after a short stay, so a flood of one-off tokens (invalid, or never seen again)
 *   churns through it without touching the main FIFO where the tokens in repeated use live. Keys
 *   evicted from the small FIFO are remembered (keys only: hashes, never values) in a bounded ghost
 *   FIFO; one that comes back goes straight to the main FIFO, which is what keeps a cyclic rotation
 *   of slightly more tokens than the capacity from missing every time, as it does under LRU.
 */
import { hash } from 'node:crypto';

/**
 * SHA-256 of the token, its 32 bytes as a latin1 string: the only form in which a token is ever used
 * as a key. The one-shot `crypto.hash` (Node 20.12+, within our engines) skips the Hash object, and
 * latin1 skips an encoding that base64url would pay on every request (about 0.4 µs, bench/README.md).
 */
export function tokenHash(token: string): string {
  return hash('sha256', token, 'binary') // 'binary' is Node's name for latin1;
}

/** One cached entry, linked into the small or the main FIFO (head: the next to be looked at for eviction). */
class CacheNode<V> {
  value: V;
  expiresAt: number;
  /** Hits since it was inserted or last looked at by eviction, capped at 3. */
  freq = 0;
  inMain = false;
  prev: CacheNode<V> | undefined = undefined;
  next: CacheNode<V> | undefined = undefined;
  constructor(
    readonly key: string,
    value: V,
    expiresAt: number,
  ) {
    this.value = value;
    this.expiresAt = expiresAt;
  }
}

/** A doubly linked FIFO of nodes: O(1) push at the tail, removal anywhere. */
class Fifo<V> {
  head: CacheNode<V> | undefined = undefined;
  tail: CacheNode<V> | undefined = undefined;
  length = 0;

  push(node: CacheNode<V>): void {
    node.prev = this.tail;
    node.next = undefined;
    if (this.tail === undefined) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.length++;
  }

  remove(node: CacheNode<V>): void {
    if (node.prev === undefined) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = undefined;
    this.length--;
  }
}

export class ExpiringLru<V> {
  readonly #entries = new Map<string, CacheNode<V>>();
  readonly #small = new Fifo<V>();
  readonly #main = new Fifo<V>();
  /** Evict from the small FIFO while it holds at least this many (~10% of the capacity). */
  readonly #smallTarget: number;
  /** `maxEntries` as a whole number of entries. */
  readonly #capacity: number;
  /** Ghost FIFO: a ring of recently evicted keys, and for each key still remembered its sequence number. */
  readonly #ghostRing: string[] = []; // grows to #ghostCapacity, then wraps
  readonly #ghostCapacity: number;
  readonly #ghost = new Map<string, number>();
  #ghostSeq = 0;

  constructor(readonly maxEntries: number) {
    this.#capacity = Math.max(0, Math.floor(maxEntries));
    this.#smallTarget = Math.max(1, Math.floor(this.#capacity / 10));
    // As many ghost keys as the main FIFO may hold (the paper's choice), at least one.
    this.#ghostCapacity = Math.max(1, this.#capacity - this.#smallTarget);
  }

  /** The value, if present and not expired at `now` (seconds); an expired entry is dropped. */
  get(key: string, now: number): V | undefined {
    const node = this.#entries.get(key);
    if (node === undefined) return undefined;
    if (node.expiresAt <= now) {
      this.#drop(node);
      return undefined;
    }
    if (node.freq < 3) node.freq++;
    return node.value;
  }

  /** Stores until `expiresAt` (seconds), replacing any entry for `key`; evicts one entry when full. */
  set(key: string, value: V, expiresAt: number): void {
    const existing = this.#entries.get(key);
    if (existing !== undefined) {
      existing.value = value;
      existing.expiresAt = expiresAt;
      if (existing.freq < 3) existing.freq++;
      return;
    }
    if (this.#capacity === 0) return;
    while (this.#entries.size >= this.#capacity) this.#evict();
    const node = new CacheNode(key, value, expiresAt);
    this.#entries.set(key, node);
    if (this.#ghost.delete(key)) {
      node.inMain = true;
      this.#main.push(node);
    } else {
      this.#small.push(node);
    }
  }

  /**
   * Stores a verification result for at most `maxTtl` seconds from `now` and never past the token's
   * own `expiresAt`; nothing when that is already past.
   */
  setUntil(key: string, value: V, expiresAt: number | undefined, now: number, maxTtl: number): void {
    const until = Math.min(expiresAt ?? Infinity, now + maxTtl);
    if (until > now) this.set(key, value, until);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Calls `fn` with every value held, expired ones not yet dropped included. */
  forEachValue(fn: (value: V) => void): void {
    for (const node of this.#entries.values()) fn(node.value);
  }

  #drop(node: CacheNode<V>): void {
    (node.inMain ? this.#main : this.#small).remove(node);
    this.#entries.delete(node.key);
  }

  /** Evicts exactly one entry (the cache is not empty). */
  #evict(): void {
    if (this.#small.length >= this.#smallTarget || this.#main.length === 0) {
      // Small FIFO: an entry hit while here moves on to the main FIFO; the first one not hit goes.
      // While the main FIFO has room (a cold start), every entry moves on: otherwise a rotation just
      // over the free space would evict each key right before it comes round again.
      for (let node = this.#small.head; node !== undefined; node = this.#small.head) {
        this.#small.remove(node);
        if (node.freq > 0 || this.#main.length < this.#capacity - this.#smallTarget) {
          node.freq = 0;
          node.inMain = true;
          this.#main.push(node);
        } else {
          this.#entries.delete(node.key);
          this.#remember(node.key);
          return;
        }
      }
    }
    // Main FIFO, with second chances: an entry hit since last looked at goes round again, one hit fewer.
    for (let node = this.#main.head; node !== undefined; node = this.#main.head) {
      this.#main.remove(node);
      if (node.freq > 0) {
        node.freq--;
        this.#main.push(node);
      } else {
        node.inMain = false;
        this.#entries.delete(node.key);
        return;
      }
    }
  }

  /** Adds a key to the ghost FIFO, forgetting the oldest when it is full. */
  #remember(key: string): void {
    const ring = this.#ghostRing;
    const seq = this.#ghostSeq++;
    if (ring.length < this.#ghostCapacity) {
      ring.push(key); // slot `seq`: the ring fills up one key per call
    } else {
      const slot = seq % this.#ghostCapacity;
      const old = ring[slot]!;
      // The old key is forgotten unless it has since come back and been evicted again (a newer slot).
      if (this.#ghost.get(old) === seq - this.#ghostCapacity) this.#ghost.delete(old);
      ring[slot] = key;
    }
    this.#ghost.set(key, seq);
  }
}
