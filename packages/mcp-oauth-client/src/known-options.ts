import { McpOAuthError } from './errors.js';

/** The keys of every member of a union (`keyof` of a union keeps only the keys they all share). */
export type KeysOfUnion<T> = T extends unknown ? keyof T : never;

/**
 * Every option name of `T` mapped to `true`. Typed so that the list cannot drift from the options
 * type: a name missing from the list, or one the type does not have, is a compile error.
 */
export type KnownOptions<T> = { readonly [K in KeysOfUnion<T>]-?: true };

/** Longest option name quoted in a message: a key is the caller's text, never a value, but kept short. */
const MAX_QUOTED = 64;

const quote = (key: string) => JSON.stringify(key.length > MAX_QUOTED ? `${key.slice(0, MAX_QUOTED)}…` : key);

/** Lower case, without `_` and `-`: `redirect_uri`, `Redirect-URI` and `redirectUri` compare equal. */
const folded = (key: string) => key.toLowerCase().replace(/[_-]/g, '');

/** The camelCase words of a name, lower case: `allowInsecureHttp` → `allow insecure http`. */
const words = (key: string) => key.split(/(?=[A-Z])|[_-]+/).filter(Boolean).map((word) => word.toLowerCase());

/** Optimal string alignment distance (Levenshtein with adjacent transpositions), on short option names. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known name `key` was most likely meant to be, only when it is close: the same name in another
 * case or in snake_case, a name at most two edits away (one for names of five characters or fewer),
 * or the only known name sharing its first two words (`allowInsecureHttp` → `allowInsecureLoopback`).
 */
export function closestOption(key: string, known: readonly string[]): string | undefined {
  const same = known.find((name) => folded(name) === folded(key));
  if (same !== undefined) return same;
  const limit = key.length > 5 ? 2 : 1;
  let nearest: { name: string; distance: number } | undefined;
  for (const name of known) {
    const d = distance(folded(key), folded(name));
    if (d <= limit && (nearest === undefined || d < nearest.distance)) nearest = { name, distance: d };
  }
  if (nearest !== undefined) return nearest.name;
  const mine = words(key);
  const shared = (name: string) => {
    const theirs = words(name);
    let n = 0;
    while (n < mine.length && n < theirs.length && mine[n] === theirs[n]) n++;
    return n;
  };
  const counts = known.map(shared);
  const most = Math.max(0, ...counts);
  return most >= 2 && counts.filter((n) => n === most).length === 1 ? known[counts.indexOf(most)] : undefined;
}

/**
 * Refuses, with `invalid_options`, an options object carrying a name that `known` does not list, so
 * a typo (`redirectUrl`) fails at construction instead of being silently ignored. The message names
 * `where` (the factory and which of its objects), every unknown name with the closest known one when
 * there is a close one, and never a value: options hold secrets. Only own enumerable string keys count.
 */
export function assertKnownOptions(options: unknown, known: Readonly<Record<string, true>>, where: string): void {
  if (typeof options !== 'object' || options === null) return; // not an options object: its own check says so
  const unknown = Object.keys(options).filter((key) => !Object.hasOwn(known, key));
  if (unknown.length === 0) return;
  const names = Object.keys(known);
  const described = unknown.map((key) => {
    const hint = closestOption(key, names);
    return hint === undefined ? quote(key) : `${quote(key)} (did you mean ${quote(hint)}?)`;
  });
  throw new McpOAuthError(
    'invalid_options',
    `Unknown option${unknown.length > 1 ? 's' : ''} ${described.join(', ')} in ${where}; known: ${names.length > 0 ? names.join(', ') : 'none'}`,
  );
}
