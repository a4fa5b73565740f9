import { createHash, randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertPrivate } from './encrypted-file-store.js';
import { McpOAuthError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';

/**
 * Mutual exclusion for refreshes across processes sharing one {@link TokenStore}. Within a process the
 * token lifecycle already runs one refresh per key; this lock extends that to several processes.
 */
export interface RefreshLock {
  /** Runs `fn` while holding the lock named `key` and releases it afterwards, even when `fn` throws. */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** A lock that only serializes within this process (the default). */
export function createInProcessLock(): RefreshLock {
  const tails = new Map<string, Promise<unknown>>();
  return {
    async withLock(key, fn) {
      const previous = tails.get(key) ?? Promise.resolve();
      const run = previous.then(fn, fn);
      const tail = run.then(() => undefined, () => undefined);
      tails.set(key, tail);
      try {
        return await run;
      } finally {
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
  };
}

/** Options of {@link createFileLock}. */
export interface FileLockOptions {
  /** Directory for the lock files (created 0700 if missing). Required. */
  readonly directory: string;
  /** Give up after this long, in ms: `lock_timeout`. Default 30 000. */
  readonly timeoutMs?: number;
  /** A lock file older than this (ms) is considered abandoned by a crashed process and removed. Default 60 000. */
  readonly staleMs?: number;
  /** Poll interval while waiting, in ms. Default 20. */
  readonly retryMs?: number;
}

const FILE_LOCK_OPTIONS: KnownOptions<FileLockOptions> = { directory: true, timeoutMs: true, staleMs: true, retryMs: true };

/**
 * A cross-process {@link RefreshLock} built on exclusive file creation, atomic on local file systems:
 * the lock file (one per key, its SHA-256) is written complete under a temporary name and hard-linked
 * into place (`link` fails when it exists). It carries a unique id of this holder; release removes it
 * only while it still holds that id. While held, its mtime is refreshed every `staleMs / 3`, so only a
 * crashed (or frozen) holder's lock goes stale; a stale lock is removed by one waiter at a time (see
 * `breakStale`).
 */
export function createFileLock(options: FileLockOptions): RefreshLock {
  assertKnownOptions(options, FILE_LOCK_OPTIONS, 'createFileLock options');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const staleMs = options.staleMs ?? 60_000;
  const retryMs = options.retryMs ?? 20;
  let ready: Promise<unknown> | undefined;

  async function tryCreate(path: string, id: string): Promise<boolean> {
    const temporary = `${path}.${id}.tmp`;
    await writeFile(temporary, id, { mode: 0o600, flag: 'wx' });
    try {
      await link(temporary, path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await rm(temporary, { force: true });
    }
  }

  const isStale = (info: { mtimeMs: number } | undefined) => info !== undefined && Date.now() - info.mtimeMs > staleMs;

  /**
   * Removes an abandoned lock. Breakers take turns under a lock of their own (`<lock>.break`): two at
   * once could each see the stale lock, one replace it with a fresh lock of its own and the other then
   * remove that one, letting a third waiter in beside its holder. Under the break lock only the stale
   * lock's own (crashed or frozen) holder can change the file between our look and the removal, so
   * the removal is checked against the inode we looked at.
   */
  async function breakStale(path: string, id: string): Promise<void> {
    const seen = await stat(path).catch(() => undefined);
    if (!isStale(seen)) return;
    const breaker = `${path}.break`;
    if (!(await tryCreate(breaker, id))) {
      // A breaker that crashed mid-way leaves its lock behind: clear it once it is stale too.
      if (isStale(await stat(breaker).catch(() => undefined))) await rm(breaker, { force: true });
      return;
    }
    try {
      const aside = `${path}.${randomUUID()}.stale`;
      const current = await stat(path).catch(() => undefined);
      if (!isStale(current) || current!.ino !== seen!.ino) return;
      if (!(await rename(path, aside).then(() => true, () => false))) return;
      const moved = await stat(aside).catch(() => undefined);
      // Its holder released it and a waiter locked afresh in between: put that lock back.
      if (moved && moved.ino !== seen!.ino) await link(aside, path).catch(() => undefined);
      await rm(aside, { force: true });
    } finally {
      await rm(breaker, { force: true });
    }
  }

  return {
    async withLock(key, fn) {
      ready ??= mkdir(options.directory, { recursive: true, mode: 0o700 }).then(() => assertPrivate(options.directory, 'refresh lock directory'));
      ready.catch(() => (ready = undefined));
      await ready;
      const path = join(options.directory, `${createHash('sha256').update(key).digest('hex')}.lock`);
      const id = `${process.pid}-${randomUUID()}`;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let created: boolean;
        try {
          created = await tryCreate(path, id);
        } catch (error) {
          throw new McpOAuthError('lock_timeout', 'Could not create the refresh lock file', { cause: error });
        }
        if (created) break;
        await breakStale(path, id);
        if (Date.now() > deadline) throw new McpOAuthError('lock_timeout', `Refresh lock not acquired within ${timeoutMs} ms`);
        await sleep(retryMs + Math.floor(Math.random() * retryMs));
      }
      const heartbeat = setInterval(() => {
        const at = new Date();
        void readFile(path, 'utf8')
          .then((holder) => (holder === id ? utimes(path, at, at) : undefined))
          .catch(() => undefined);
      }, Math.max(1, Math.floor(staleMs / 3)));
      heartbeat.unref();
      try {
        return await fn();
      } finally {
        clearInterval(heartbeat);
        // Remove the lock only while it is still ours: a takeover's lock belongs to its new holder.
        const holder = await readFile(path, 'utf8').catch(() => undefined);
        if (holder === id) await rm(path, { force: true });
      }
    },
  };
}
