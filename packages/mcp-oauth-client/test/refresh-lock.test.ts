import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFileLock } from '../src/refresh-lock.js';

const lockPath = (dir: string, key: string) => join(dir, `${createHash('sha256').update(key).digest('hex')}.lock`);

function occupancy() {
  let inside = 0;
  let max = 0;
  const body = (ms: number) => async () => {
    inside++;
    max = Math.max(max, inside);
    await sleep(ms);
    inside--;
  };
  return { body, max: () => max };
}

describe('createFileLock', () => {
  it('a holder that outlives staleMs keeps its lock (heartbeat): never two holders at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lock-'));
    try {
      // staleMs leaves the heartbeat (every staleMs / 3) room for a busy CI machine's event-loop
      // stalls; the holder stays three times as long, so without the heartbeat a waiter takes over.
      const lock = createFileLock({ directory: dir, staleMs: 400, retryMs: 5 });
      const o = occupancy();
      await Promise.all([lock.withLock('k', o.body(1200)), sleep(10).then(() => lock.withLock('k', o.body(100))), sleep(20).then(() => lock.withLock('k', o.body(100)))]);
      expect(o.max()).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an abandoned lock is taken over by exactly one of many waiters', async () => {
    for (let round = 0; round < 10; round++) {
      const dir = await mkdtemp(join(tmpdir(), 'lock-'));
      try {
        const path = lockPath(dir, 'k');
        await writeFile(path, 'dead');
        const old = new Date(Date.now() - 120_000);
        await utimes(path, old, old);
        const lock = createFileLock({ directory: dir, retryMs: 1 });
        const o = occupancy();
        await Promise.all(Array.from({ length: 8 }, () => lock.withLock('k', o.body(30))));
        expect(o.max()).toBe(1);
        expect(await readdir(dir)).toEqual([]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });

  it('a waiter leaves an abandoned lock to the waiter already breaking it (one breaker at a time)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lock-'));
    try {
      const path = lockPath(dir, 'k');
      const old = new Date(Date.now() - 120_000);
      await writeFile(path, 'dead');
      await utimes(path, old, old);
      // Another waiter is mid-way through breaking it: its break lock is fresh.
      await writeFile(`${path}.break`, 'other-waiter');
      const lock = createFileLock({ directory: dir, retryMs: 5, timeoutMs: 300 });
      await expect(lock.withLock('k', async () => 1)).rejects.toMatchObject({ code: 'lock_timeout' });
      expect(await readFile(path, 'utf8')).toBe('dead');
      // A breaker that crashed leaves a break lock that goes stale in turn: it is cleared, and the lock taken.
      await utimes(`${path}.break`, old, old);
      await expect(lock.withLock('k', async () => 2)).resolves.toBe(2);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('release removes the lock file only while it still carries this holder\'s id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lock-'));
    try {
      const lock = createFileLock({ directory: dir });
      const path = lockPath(dir, 'k');
      await lock.withLock('k', async () => {
        expect((await readFile(path, 'utf8')).length).toBeGreaterThan(10);
        await writeFile(path, 'someone-else'); // e.g. a takeover while we were frozen
      });
      expect(await readFile(path, 'utf8')).toBe('someone-else');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
