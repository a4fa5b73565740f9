import { createHash } from 'node:crypto';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { McpOAuthError } from './errors.js';

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

/**
 * A cross-process {@link RefreshLock} built on exclusive file creation (`open(…, 'wx')`), which is
 * atomic on local file systems. One file per key (its SHA-256), removed on release.
 */
export function createFileLock(options: FileLockOptions): RefreshLock {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const staleMs = options.staleMs ?? 60_000;
  const retryMs = options.retryMs ?? 20;
  let ready: Promise<unknown> | undefined;
  return {
    async withLock(key, fn) {
      ready ??= mkdir(options.directory, { recursive: true, mode: 0o700 });
      await ready;
      const path = join(options.directory, `${createHash('sha256').update(key).digest('hex')}.lock`);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          const handle = await open(path, 'wx', 0o600);
          await handle.writeFile(`${process.pid} ${Date.now()}`);
          await handle.close();
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new McpOAuthError('lock_timeout', 'Could not create the refresh lock file', { cause: error });
          const info = await stat(path).catch(() => undefined);
          if (info && Date.now() - info.mtimeMs > staleMs) await rm(path, { force: true });
          if (Date.now() > deadline) throw new McpOAuthError('lock_timeout', `Refresh lock not acquired within ${timeoutMs} ms`);
          await sleep(retryMs + Math.floor(Math.random() * retryMs));
        }
      }
      try {
        return await fn();
      } finally {
        await rm(path, { force: true });
      }
    },
  };
}
