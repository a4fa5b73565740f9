/**
 * Internal: concurrent calls with the same key (and the same subject, when one is given) share one
 * in-flight promise (single-flight), so a burst of requests with one uncached token makes one
 * upstream request.
 */
export class SingleFlight<V, K = string> {
  readonly #pending = new Map<K, { readonly promise: Promise<V>; readonly subject: unknown }>();
  /**
   * `subject`: what two calls must have identical to share (the token, when the key is only a short
   * tag of it); a call whose key is held for another subject runs on its own.
   */
  run(key: K, work: () => Promise<V>, subject?: unknown): Promise<V> {
    const existing = this.#pending.get(key);
    if (existing) return existing.subject === subject ? existing.promise : work();
    // then(ok, fail) rather than finally(): one reaction instead of finally's three.
    const promise = work().then(
      (value) => {
        this.#pending.delete(key);
        return value;
      },
      (error: unknown) => {
        this.#pending.delete(key);
        throw error;
      },
    );
    this.#pending.set(key, { promise, subject });
    return promise;
  }
}

/** Internal: lets one caller stop waiting (its `signal`) without cancelling work shared with others. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    // The work has started and goes on for whoever shares it; no one here waits for its outcome,
    // so a failure must not surface as an unhandled rejection (which ends a Node process).
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
