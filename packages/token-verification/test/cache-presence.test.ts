import { describe, expect, it } from '@jest/globals';
import { randomBytes, randomInt } from 'node:crypto';
import { CachePresence, tokenTagger } from '../src/cache-presence.js';
import { SingleFlight } from '../src/single-flight.js';

const tagOf = tokenTagger();
const someToken = () => `eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.${randomBytes(64).toString('base64url')}`;

describe('CachePresence (which tokens the JWT cache may hold)', () => {
  it('never says absent for a tag still filed, through evictions and rebuilds', () => {
    // A stand-in for the cache: up to `capacity` tags, the oldest evicted; the filter is told of
    // every addition and rebuilds from what is still filed.
    const capacity = 100;
    const presence = new CachePresence(capacity);
    const filed: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const tag = tagOf(someToken());
      presence.add(tag, (keep) => filed.forEach(keep));
      filed.push(tag);
      if (filed.length > capacity) filed.splice(randomInt(filed.length), 1); // evicted anywhere
      if (i % 97 === 0) for (const kept of filed) expect(presence.mayHold(kept)).toBe(true);
    }
    for (const kept of filed) expect(presence.mayHold(kept)).toBe(true);
  });

  it('says absent for nearly every token never filed, even just before a rebuild (bits of evicted tags included)', () => {
    const capacity = 1_000;
    const presence = new CachePresence(capacity);
    const filed: number[] = [];
    // 2 × capacity additions: the filter holds the tags of one rebuild plus `capacity` more.
    for (let i = 0; i < 2 * capacity; i++) {
      const tag = tagOf(someToken());
      presence.add(tag, (keep) => filed.slice(-capacity).forEach(keep));
      filed.push(tag);
    }
    let present = 0;
    for (let i = 0; i < 10_000; i++) if (presence.mayHold(tagOf(someToken()))) present++;
    expect(present / 10_000).toBeLessThan(0.08); // about 5 % expected
  });

  it('takes at most 1 MiB up front, whatever the cache capacity', () => {
    const before = process.memoryUsage().arrayBuffers;
    const filters = [new CachePresence(1e8), new CachePresence(1e8)];
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThanOrEqual(2 * 2 ** 20);
    expect(filters.every((filter) => !filter.mayHold(tagOf(someToken())))).toBe(true);
  });

  it('tags a token by its signature end, with a seed of its own per verifier', () => {
    const token = someToken();
    expect(tagOf(token)).toBe(tagOf(token));
    expect(tagOf(token)).toBe(tagOf(`${token}`.slice(0))); // the value, not the string object
    // The last character changed: another tag (for a 32-bit tag, equal by chance once in 2^32).
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    expect(tagOf(`${token.slice(0, -1)}${last}`)).not.toBe(tagOf(token));
    // Another verifier's tagger: another seed, so other bits for the same token.
    const others = Array.from({ length: 4 }, () => tokenTagger()(token));
    expect(others.some((tag) => tag !== tagOf(token))).toBe(true);
  });
});

describe('SingleFlight', () => {
  it('shares one call among callers with the same key and subject, and never with another subject under that key', async () => {
    const flight = new SingleFlight<string, number>();
    let calls = 0;
    const work = (answer: string) => () => {
      calls++;
      return new Promise<string>((resolve) => setTimeout(() => resolve(answer), 5));
    };
    const [a, b, c] = await Promise.all([flight.run(7, work('for token A'), 'token A'), flight.run(7, work('again A'), 'token A'), flight.run(7, work('for token B'), 'token B')]);
    expect([a, b, c]).toEqual(['for token A', 'for token A', 'for token B']);
    expect(calls).toBe(2);
    // Settled: the key is free again.
    expect(await flight.run(7, work('later'), 'token B')).toBe('later');
  });
});
