/**
 * Internal: which tokens the JWT verifier's cache may hold, so that a token it cannot hold skips
 * the SHA-256 a lookup needs (a native call that costs several µs on a loaded server,
 * bench/README.md): on a busy server most cache misses are tokens never seen before.
 *
 * A Bloom filter over a tag of each filed token: 32 bits mixed from the token's last characters,
 * which for any signed token are signature bytes. It is not a key and decides nothing about a
 * token: "absent" is never wrong (a token is added before its result is filed, and a rebuild keeps
 * every token still filed), while "present" may be (another token with the same bits, or one
 * evicted since) and then only costs the hash a lookup takes anyway. Like the cache, it holds no
 * token: the tag of 16 characters cannot give a token back.
 */
import { randomInt } from 'node:crypto';

/** Characters of the token's end that its tag is made of: 96 bits of a signature. */
const TAIL = 16;
/** Bits per filed token: with two probes about 1.4 % false "present", 4.9 % just before a rebuild. */
const BITS_PER_ENTRY = 16;
/** At most 1 MiB of bits per bitset, however large the cache. */
const MAX_BITS = 2 ** 23;

/**
 * A verifier's tag function, seeded so that tags cannot be computed ahead of the process. Anyone
 * who knows a token's last characters can still make other strings with its tag; that costs only
 * speed (they are hashed, and do not share its verification: see SingleFlight's `subject`).
 */
export function tokenTagger(): (token: string) => number {
  const seed = randomInt(2 ** 32 - 1) | 0;
  return (token) => {
    let h = seed ^ token.length;
    for (let i = Math.max(0, token.length - TAIL); i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
    return mix(h);
  };
}

/** MurmurHash3's 32-bit finaliser: every input bit moves every output bit. */
function mix(value: number): number {
  let h = value;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * A Bloom bitset over tags, shared by this filter and the doorkeeper: two probes per tag (the tag
 * and the tag mixed again), sized for `entries` at `bitsPerEntry`, at most `MAX_BITS`.
 */
export class TagBits {
  readonly #words: Uint32Array;
  readonly #mask: number;

  constructor(entries: number, bitsPerEntry: number) {
    let size = 1024;
    while (size < entries * bitsPerEntry && size < MAX_BITS) size *= 2;
    this.#words = new Uint32Array(size / 32);
    this.#mask = size - 1;
  }

  /** False only when the tag was never added since the last `clear`. */
  has(tag: number): boolean {
    const a = tag & this.#mask;
    const b = mix(tag ^ 0x9e3779b9) & this.#mask;
    return (this.#words[a >>> 5]! & (1 << (a & 31))) !== 0 && (this.#words[b >>> 5]! & (1 << (b & 31))) !== 0;
  }

  add(tag: number): void {
    const a = tag & this.#mask;
    const b = mix(tag ^ 0x9e3779b9) & this.#mask;
    this.#words[a >>> 5]! |= 1 << (a & 31);
    this.#words[b >>> 5]! |= 1 << (b & 31);
  }

  clear(): void {
    this.#words.fill(0);
  }
}

export class CachePresence {
  readonly #bits: TagBits;
  /** Tags added since the last rebuild; at `#capacity` the filter is rebuilt from the cache. */
  #added = 0;
  readonly #capacity: number;
  readonly #keep = (tag: number): void => this.#bits.add(tag);

  /** `capacity`: the cache's `maxEntries`. */
  constructor(capacity: number) {
    this.#capacity = Math.max(1, Math.floor(capacity));
    this.#bits = new TagBits(this.#capacity, BITS_PER_ENTRY);
  }

  /** False only when no filed token has this tag. */
  mayHold(tag: number): boolean {
    return this.#bits.has(tag);
  }

  /**
   * Adds a tag, before its token's result is filed. Evicted tokens leave their bits behind, so after
   * `capacity` additions the filter starts afresh and `refill` hands it the tag of every token still
   * in the cache (one pass over the cache per `capacity` additions: about 10 k entries by default; a
   * cache of more than 500 k entries outgrows the 1 MiB of bits, and the filter then says "present"
   * more often, which only costs the hash).
   */
  add(tag: number, refill: (keep: (tag: number) => void) => void): void {
    if (++this.#added > this.#capacity) {
      this.#bits.clear();
      this.#added = 0;
      refill(this.#keep);
    }
    this.#bits.add(tag);
  }
}
