import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Doorkeeper } from '../src/doorkeeper.js';
import { tokenTagger } from '../src/cache-presence.js';

const tagOf = tokenTagger();
const someTag = () => tagOf(randomBytes(24).toString('base64url'));

describe('Doorkeeper (admission on second sight)', () => {
  it('says a tag is new the first time and seen the second', () => {
    const door = new Doorkeeper(1000);
    const tag = someTag();
    expect(door.seenBefore(tag)).toBe(false);
    expect(door.seenBefore(tag)).toBe(true);
    expect(door.seenBefore(tag)).toBe(true);
  });

  it('takes at most 1 MiB up front, whatever the cache capacity it serves', () => {
    const before = process.memoryUsage().arrayBuffers;
    const doors = [new Doorkeeper(1e8), new Doorkeeper(1e8)];
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThanOrEqual(2 * 2 ** 20);
    const tag = someTag();
    expect(doors.map((door) => door.seenBefore(tag))).toEqual([false, false]);
    expect(doors.map((door) => door.seenBefore(tag))).toEqual([true, true]);
  });

  it('starts afresh after recording `window` tags, so it never fills up', () => {
    const door = new Doorkeeper(100);
    const first = someTag();
    expect(door.seenBefore(first)).toBe(false);
    // Count recordings, not calls: a new tag may pass as seen (a false positive) and is not recorded.
    let recorded = 1;
    while (recorded < 100) if (!door.seenBefore(someTag())) recorded++; // the 100th clears the bitset
    expect(door.seenBefore(first)).toBe(false);
  });

  it('remembers at least 64 tags even for a tiny cache', () => {
    const door = new Doorkeeper(1);
    const recorded: number[] = [];
    while (recorded.length < 63) {
      const tag = someTag();
      if (!door.seenBefore(tag)) recorded.push(tag);
    }
    for (const tag of recorded) expect(door.seenBefore(tag)).toBe(true);
  });

  it('lets few never-seen tags pass as seen when it is nearly full (about 5 % expected)', () => {
    // A probe that does not pass is recorded (and may start the bitset afresh), so each trial fills a
    // new doorkeeper to one short of its window and asks once.
    let passed = 0;
    const trials = 200;
    for (let trial = 0; trial < trials; trial++) {
      const door = new Doorkeeper(1000);
      for (let i = 0; i < 999; i++) door.seenBefore(someTag());
      if (door.seenBefore(someTag())) passed++;
    }
    expect(passed / trials).toBeLessThan(0.12);
  });
});
