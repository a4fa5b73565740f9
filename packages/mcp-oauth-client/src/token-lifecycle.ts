import { createHash } from 'node:crypto';
import { McpOAuthError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';
import { createInProcessLock, type RefreshLock } from './refresh-lock.js';
import { failedBeforeSending } from './safe-fetch.js';
import { asStoredTokens, type StoredTokens, type TokenStore } from './token-store.js';

/** Options of {@link createTokenLifecycle}. */
export interface TokenLifecycleOptions {
  readonly store: TokenStore;
  /** Cross-process lock around refreshes. Default: in-process only ({@link createInProcessLock}). */
  readonly lock?: RefreshLock;
  /** Refresh when less than this remains before the absolute expiry, in ms. Default 60 000. */
  readonly refreshSkewMs?: number;
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

const TOKEN_LIFECYCLE_OPTIONS: KnownOptions<TokenLifecycleOptions> = { store: true, lock: true, refreshSkewMs: true, now: true };

/** Sends the refresh request; gets the tokens as stored now. */
export type Refresher = (current: StoredTokens) => Promise<StoredTokens>;

/** The token lifecycle: fresh tokens without loss (issue 4 "token lifecycle"). */
export interface TokenLifecycle {
  /** Tokens stored under `key`, or undefined. */
  read(key: string): Promise<StoredTokens | undefined>;
  save(key: string, tokens: StoredTokens): Promise<void>;
  /** True when the access token has more than the skew left (or no known expiry). */
  isFresh(tokens: StoredTokens): boolean;
  /**
   * Returns usable tokens for `key`, refreshing first when they are about to expire or when the
   * server rejected `rejectedAccessToken`. One refresh at a time per key in this process (single
   * flight) and under the lock across processes; the store is re-read under the lock so a refresh
   * done meanwhile by someone else is used instead of repeating it. A refresh token is never sent
   * twice, unless the AS answered it without rotating it. When the AS refuses the refresh, the
   * tokens are deleted only if they are still the ones that failed. Returns undefined when a new
   * authorization is needed.
   */
  ensureFresh(key: string, refresher: Refresher, rejectedAccessToken?: string): Promise<StoredTokens | undefined>;
}

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

/** Creates a {@link TokenLifecycle} over a store and a lock. */
export function createTokenLifecycle(options: TokenLifecycleOptions): TokenLifecycle {
  assertKnownOptions(options, TOKEN_LIFECYCLE_OPTIONS, 'createTokenLifecycle options');
  const store = options.store;
  const lock = options.lock ?? createInProcessLock();
  const skew = options.refreshSkewMs ?? 60_000;
  const now = options.now ?? Date.now;
  const inFlight = new Map<string, Promise<StoredTokens | undefined>>();
  // Digests of refresh tokens this process has sent and not seen come back: a rotated-away token,
  // or one whose refresh ended without an answer, is never sent again (OAuth 2.1 §4.3.1 rotation;
  // resending one the AS did rotate would look like a replay, RFC 9700 §4.14). A refresh that
  // failed before it was sent (the AS unreachable) spends nothing.
  const spent = new Set<string>();

  const read = async (key: string) => {
    try {
      return asStoredTokens(await store.get(key));
    } catch (cause) {
      throw cause instanceof McpOAuthError ? cause : new McpOAuthError('storage_failed', 'Could not read tokens from the store', { cause });
    }
  };
  const isFresh = (t: StoredTokens) => t.expiresAt === undefined || t.expiresAt - skew > now();
  const usable = (t: StoredTokens, rejected: string | undefined) => t.accessToken !== rejected && isFresh(t);

  const refreshUnderLock = (key: string, refresher: Refresher, rejected: string | undefined) =>
    lock.withLock(key, async () => {
      const latest = await read(key);
      if (!latest) return undefined;
      if (usable(latest, rejected)) return latest;
      if (!latest.refreshToken) return undefined;
      const sent = digest(latest.refreshToken);
      if (spent.has(sent)) return undefined;
      spent.add(sent);
      try {
        const fresh = await refresher(latest);
        // An AS that does not rotate (allowed for confidential clients, OAuth 2.1 §4.3.1) answered
        // with no new refresh token: the one sent is still the one to use next time.
        if (fresh.refreshToken === latest.refreshToken) spent.delete(sent);
        await store.set(key, { ...fresh });
        return fresh;
      } catch (error) {
        // Only a definite refusal (invalid_grant…) proves the refresh token dead; a network error does not.
        if (error instanceof McpOAuthError && error.oauthError !== undefined) {
          const again = await read(key);
          if (again?.refreshToken === latest.refreshToken) await store.delete(key);
        } else if (failedBeforeSending(error)) {
          spent.delete(sent);
        }
        throw error;
      }
    });

  return {
    read,
    save: async (key, tokens) => store.set(key, { ...tokens }),
    isFresh,
    async ensureFresh(key, refresher, rejectedAccessToken) {
      const current = await read(key);
      if (!current) return undefined;
      if (usable(current, rejectedAccessToken)) return current;
      const flightKey = `${key}\n${rejectedAccessToken ?? ''}`;
      let flight = inFlight.get(flightKey);
      if (!flight) {
        flight = refreshUnderLock(key, refresher, rejectedAccessToken).finally(() => inFlight.delete(flightKey));
        inFlight.set(flightKey, flight);
      }
      return flight;
    },
  };
}
