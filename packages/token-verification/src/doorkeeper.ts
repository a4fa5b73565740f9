/**
 * Internal: admission on second sight for the JWT verifier's cache, the "doorkeeper" of TinyLFU
 * (Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache Admission Policy", ACM TOS 2017).
 *
 * A JWT cache miss is a local signature check, not a network call, so filing the result of a token
 * used once buys nothing and costs a great deal on a busy server: every filed result is about a
 * dozen objects that outlive the young generation and, in a full cache, evict another, so major
 * collections keep marking the cache (about 140 k instructions of a 1.7 M-instruction miss,
 * bench/README.md). The doorkeeper remembers, in a bitset and without any per-token object, the
 * tags (cache-presence.ts) of the tokens verified once; a result is filed only when its token is
 * verified again. Two tokens with the same bits only mean one is filed on its first verification.
 */
import { TagBits } from './cache-presence.js';

/** Bits per key the doorkeeper expects: with two probes, about 5 % false "seen" just before a reset. */
const BITS_PER_KEY = 8;
/**
 * At most 2^20 keys per window, 1 MiB of bits allocated with the verifier: a larger cache gets a
 * doorkeeper that starts afresh every 2^20 keys (a token used twice within that many new ones is
 * still filed).
 */
const MAX_WINDOW = 2 ** 20;

export class Doorkeeper {
  readonly #bits: TagBits;
  /** Keys recorded before the bitset is cleared, so that it never fills up (TinyLFU's reset). */
  readonly #window: number;
  #recorded = 0;

  /** `window`: how many keys it records before it starts afresh (the cache's capacity; at least 64, at most 2^20). */
  constructor(window: number) {
    this.#window = Math.min(MAX_WINDOW, Math.max(64, Math.floor(window)));
    this.#bits = new TagBits(this.#window, BITS_PER_KEY);
  }

  /** Whether `tag` (a token's tag, cache-presence.ts) was recorded since the last reset; records it if not. */
  seenBefore(tag: number): boolean {
    if (this.#bits.has(tag)) return true;
    this.#bits.add(tag);
    if (++this.#recorded >= this.#window) {
      this.#bits.clear();
      this.#recorded = 0;
    }
    return false;
  }
}
