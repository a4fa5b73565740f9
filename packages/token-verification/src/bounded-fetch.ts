/**
 * Internal: every request this package makes (metadata, JWKS, introspection) goes through here, so
 * each has a timeout and a response-size limit, and every way the upstream can fail becomes one
 * `VerifierUnavailableError` (503): an outage of the authorization server must never look like a
 * bad token (a 401 would log users out).
 */
import { VerifierUnavailableError } from './errors.js';

export interface BoundedFetchOptions {
  readonly fetch: typeof fetch;
  /** Milliseconds before the request is abandoned. */
  readonly timeout: number;
  /** Largest response body accepted, in bytes. */
  readonly maxResponseBytes: number;
  /** Names the upstream in error messages ("JWKS", "introspection endpoint"). */
  readonly label: string;
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` with a timeout and a size limit that answers with a fully buffered `Response`. Network
 * failures, timeouts and oversized bodies reject with `VerifierUnavailableError`; HTTP statuses are
 * returned for the caller to judge.
 */
export function boundedFetch(options: BoundedFetchOptions): (input: string, init?: RequestInit) => Promise<Response> {
  const { timeout, maxResponseBytes, label } = options;
  const fetchImpl = options.fetch;
  return async (input, init = {}) => {
    const timeoutSignal = AbortSignal.timeout(timeout);
    const signal = init.signal ? AbortSignal.any([init.signal, timeoutSignal]) : timeoutSignal;
    try {
      const response = await fetchImpl(input, { ...init, signal });
      const body = await readLimited(response, maxResponseBytes, label);
      return new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (error) {
      if (error instanceof VerifierUnavailableError) throw error;
      const timedOut = timeoutSignal.aborted || (init.signal?.aborted === true && (init.signal.reason as Error | undefined)?.name === 'TimeoutError');
      const reason = timedOut ? `timed out after ${timeout} ms` : init.signal?.aborted ? 'request was aborted' : 'could not be reached';
      throw new VerifierUnavailableError(`The ${label} ${reason}`, { cause: error });
    }
  };
}

async function readLimited(response: Response, maxBytes: number, label: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new VerifierUnavailableError(`The ${label} response is larger than ${maxBytes} bytes`);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new VerifierUnavailableError(`The ${label} response is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** An unusable HTTP status from an upstream: 503, carrying its `Retry-After` when it sent one. */
export function unavailableStatus(response: Response, label: string): VerifierUnavailableError {
  const retryAfter = Number(response.headers.get('retry-after'));
  return new VerifierUnavailableError(
    `The ${label} answered HTTP ${response.status}`,
    Number.isInteger(retryAfter) && retryAfter > 0 ? { retryAfter } : undefined,
  );
}
