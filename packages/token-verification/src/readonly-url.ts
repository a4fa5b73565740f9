/**
 * Internal: the `resource` of an `AuthInfo`, as a URL nobody can change. One instance per resource
 * is shared by every `AuthInfo` that names it: a fresh `new URL` on every cache hit costs more on a
 * loaded server than the rest of the hit, and a shared mutable URL would let one request handler
 * change what the next request is judged by.
 */
const READ_ONLY = 'AuthInfo.resource is read-only; copy it first: new URL(auth.resource)';

function refuse(): never {
  throw new TypeError(READ_ONLY);
}

/** Read by @portcullis/bearer-auth: such a URL can be recognised by identity, as it never changes. */
const READ_ONLY_URL = Symbol.for('@portcullis/token-verification.readOnlyUrl');

/** A `URL` (so `instanceof URL` holds) whose setters throw and whose `searchParams` is a copy. */
export class ReadonlyURL extends URL {
  constructor(href: string) {
    super(href);
    Object.freeze(this);
  }
}
// URL's own getters, each paired with a setter that refuses (a getter alone would drop the pair's
// setter silently, and assignments would then be ignored in sloppy mode rather than refused).
for (const name of ['href', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'] as const) {
  const get = Object.getOwnPropertyDescriptor(URL.prototype, name)!.get!;
  Object.defineProperty(ReadonlyURL.prototype, name, { get, set: refuse, configurable: true });
}
// The real URLSearchParams would write through to the URL: hand out a detached copy.
Object.defineProperty(ReadonlyURL.prototype, 'searchParams', {
  get(this: URL) {
    return new URLSearchParams(this.search);
  },
  configurable: true,
});
Object.defineProperty(ReadonlyURL.prototype, READ_ONLY_URL, { value: true });

const interned = new Map<string, ReadonlyURL>();
/** Resources a process names are few (the configured audiences): more than this are not interned. */
const MAX_INTERNED = 256;

/** The shared read-only URL of `href`, or `undefined` when it is not a URL (RFC 7519 allows any string). */
export function resourceUrl(href: string): ReadonlyURL | undefined {
  let url = interned.get(href);
  if (url !== undefined) return url;
  try {
    url = new ReadonlyURL(href);
  } catch {
    return undefined;
  }
  if (interned.size < MAX_INTERNED) interned.set(href, url);
  return url;
}
