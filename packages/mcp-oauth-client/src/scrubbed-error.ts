import { isNativeError } from 'node:util/types';

/**
 * An error's name, message and code, and so for its causes, without any other field: oauth4webapi
 * puts a token response in `cause.body` and a callback's parameters on its errors, and fetch wrappers
 * hang the failed request (its body: secrets, codes, verifiers) on theirs. The causes' codes say
 * whether the request was ever sent (see failedBeforeSending).
 */
export function scrubbed(error: unknown, depth = 0): Error | undefined {
  // isNativeError: undici's and Node's errors come from their own realm (see failedBeforeSending).
  if (!(error instanceof Error || isNativeError(error)) || depth > 4) return undefined;
  const cause = scrubbed(error.cause, depth + 1);
  const copy = new Error(error.message, cause && { cause });
  copy.name = error.name;
  const errorCode = (error as { code?: unknown }).code;
  if (typeof errorCode === 'string') Object.assign(copy, { code: errorCode });
  return copy;
}
