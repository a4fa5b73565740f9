import { ConfigurationError } from './errors.js';

/** The keys of every member of a union of option types. */
export type KeysOfUnion<T> = T extends unknown ? keyof T : never;

/** Every option name of `T` mapped to `true`: a list the compiler keeps complete as `T` grows. */
export type KnownOptions<T> = { readonly [K in KeysOfUnion<T>]-?: true };

/**
 * Refuses an option name the factory does not know, so that a misspelt option (`requiredScope`,
 * `requireRFC9068`) is a `ConfigurationError` at construction instead of a check silently left off.
 * Names the key and, when one is close, the option meant; never quotes a value (it may be a secret).
 */
export function assertKnownOptions(options: unknown, known: Readonly<Record<string, true>>, where: string): void {
  if (typeof options !== 'object' || options === null) return; // not an options object: its own check says so
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(known, key)) continue;
    const meant = closestOption(key, Object.keys(known));
    throw new ConfigurationError('ERR_UNKNOWN_OPTION', `${where}: unknown option "${key}"${meant === undefined ? '' : ` (did you mean "${meant}"?)`}`);
  }
}

/**
 * The known name a key most likely meant: its camelCase or other-case form, else one within two
 * edits, or one that starts with it (`maxEntry` for `maxEntries`).
 */
function closestOption(key: string, known: readonly string[]): string | undefined {
  const camel = key.replace(/[_-]([a-z])/g, (_, c: string) => c.toUpperCase()).toLowerCase();
  const sameLetters = known.find((name) => name.toLowerCase() === camel);
  if (sameLetters !== undefined) return sameLetters;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const lower = name.toLowerCase();
    const distance = camel.length >= 4 && lower.startsWith(camel.slice(0, -1)) ? 1 : editDistance(camel, lower);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Levenshtein distance; option names are short. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
