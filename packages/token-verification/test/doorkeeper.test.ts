import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Doorkeeper } from '../src/doorkeeper.js';
import { tokenHash } from '../src/lru-cache.js';

const someHash = () => tokenHash(randomBytes(24).toString('base64url'));

describe('Doorkeeper (admission on second sight)', () => {
  it('says a hash is new the first time and seen the second', () => {
    const door = new Doorkeeper(1000);
    const hash = someHash();
    expect(door.seenBefore(hash)).toBe(false);
    expect(door.seenBefore(hash)).toBe(true);
    expect(door.seenBefore(hash)).toBe(true);
  });

  it('takes at most 1 MiB up front, whatever the cache capacity it serves', () => {
    const before = process.memoryUsage().arrayBuffers;
    const doors = [new Doorkeeper(1e8), new Doorkeeper(1e8)];
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThanOrEqual(2 * 2 ** 20);
    const hash = someHash();
    expect(doors.map((door) => door.seenBefore(hash))).toEqual([false, false]);
    expect(doors.map((door) => door.seenBefore(hash))).toEqual([true, true]);
  });

  it('starts afresh after recording `window` hashes, so it never fills up', () => {
    const door = new Doorkeeper(100);
    const first = someHash();
    expect(door.seenBefore(first)).toBe(false);
    // Count recordings, not calls: a new hash may pass as seen (a false positive) and is not recorded.
    let recorded = 1;
    while (recorded < 100) if (!door.seenBefore(someHash())) recorded++; // the 100th clears the bitset
    expect(door.seenBefore(first)).toBe(false);
  });

  it('remembers at least 64 hashes even for a tiny cache', () => {
    const door = new Doorkeeper(1);
    const recorded: string[] = [];
    while (recorded.length < 63) {
      const hash = someHash();
      if (!door.seenBefore(hash)) recorded.push(hash);
    }
    for (const hash of recorded) expect(door.seenBefore(hash)).toBe(true);
  });

  it('lets few never-seen hashes pass as seen when it is nearly full (about 5 % expected)', () => {
    // A probe that does not pass is recorded (and may start the bitset afresh), so each trial fills a
    // new doorkeeper to one short of its window and asks once.
    let passed = 0;
    const trials = 200;
    for (let trial = 0; trial < trials; trial++) {
      const door = new Doorkeeper(1000);
      for (let i = 0; i < 999; i++) door.seenBefore(someHash());
      if (door.seenBefore(someHash())) passed++;
    }
    expect(passed / trials).toBeLessThan(0.12);
  });
});
