import { McpOAuthError } from './errors.js';

/**
 * One challenge of a `WWW-Authenticate` header (RFC 7235 §2.1, §4.1).
 * Parameter names are lower-cased (they are case-insensitive); values are unescaped, otherwise verbatim.
 */
export interface AuthChallenge {
  /** The auth-scheme as sent, e.g. `Bearer`. Compare with {@link AuthChallenge.schemeLower}. */
  readonly scheme: string;
  /** The auth-scheme lower-cased (schemes are case-insensitive). */
  readonly schemeLower: string;
  /** The auth-params, names lower-cased. Empty when the challenge has none or a token68. */
  readonly params: Readonly<Record<string, string>>;
  /** The token68 form (`Negotiate abc==`), when the challenge uses it instead of auth-params. */
  readonly token68?: string;
}

// RFC 7230 §3.2.6 tchar.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
// RFC 7235 §2.1 token68, only accepted when nothing but OWS precedes the next comma or the end.
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/**
 * Parses a `WWW-Authenticate` header value into its challenges: several challenges in one value
 * (or several headers joined with commas), auth-params in any order, quoted strings with `\` escapes,
 * token68, empty list elements. Malformed input throws {@link McpOAuthError} `invalid_challenge`;
 * it never crashes or loops. Hand-written: oauth4webapi parses challenges only inside its
 * response processors and does not export the parser.
 *
 * @example parseWwwAuthenticate('Bearer resource_metadata="https://mcp.example/.well-known/oauth-protected-resource", scope="a b"')
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const s = header;
  let pos = 0;
  const fail = (why: string): never => {
    throw new McpOAuthError('invalid_challenge', `Malformed WWW-Authenticate header at offset ${pos}: ${why}`);
  };
  const skipOws = () => {
    while (pos < s.length && (s[pos] === ' ' || s[pos] === '\t')) pos++;
  };
  const skipSeparators = () => {
    skipOws();
    while (s[pos] === ',') {
      pos++;
      skipOws();
    }
  };
  const readToken = (): string => {
    const start = pos;
    while (pos < s.length && TCHAR.test(s[pos]!)) pos++;
    return s.slice(start, pos);
  };
  const readQuoted = (): string => {
    pos++; // opening DQUOTE
    let out = '';
    while (pos < s.length) {
      const c = s[pos]!;
      if (c === '"') {
        pos++;
        return out;
      }
      if (c === '\\') {
        if (pos + 1 >= s.length) break;
        out += s[pos + 1];
        pos += 2;
        continue;
      }
      // qdtext excludes CTLs other than HTAB.
      if ((c < ' ' && c !== '\t') || c === '\x7f') fail('control character in quoted-string');
      out += c;
      pos++;
    }
    return fail('unterminated quoted-string');
  };
  // True when a token followed by BWS "=" starts at pos (an auth-param rather than a new challenge).
  const paramAhead = (): boolean => {
    const save = pos;
    const name = readToken();
    skipOws();
    const isParam = name.length > 0 && s[pos] === '=';
    pos = save;
    return isParam;
  };
  const atListEnd = (from: number): boolean => {
    let p = from;
    while (p < s.length && (s[p] === ' ' || s[p] === '\t')) p++;
    return p >= s.length || s[p] === ',';
  };

  const challenges: AuthChallenge[] = [];
  skipSeparators();
  while (pos < s.length) {
    const scheme = readToken();
    if (!scheme) fail('expected an auth-scheme');
    const params: Record<string, string> = {};
    let token68: string | undefined;
    // Set when the auth-param loop already consumed the comma before the next challenge.
    let separated = false;
    if (s[pos] === ' ' || s[pos] === '\t') {
      skipOws();
      const t68 = TOKEN68.exec(s.slice(pos));
      if (t68 && atListEnd(pos + t68[0].length)) {
        // Either token68 (`Negotiate abc==`) or nothing valid: an auth-param needs a non-empty value.
        token68 = t68[0];
        pos += t68[0].length;
      } else if (pos < s.length && s[pos] !== ',') {
        if (!paramAhead()) fail('expected token68 or auth-params after the auth-scheme');
        for (;;) {
          const name = readToken();
          if (!name) fail('expected an auth-param name');
          skipOws();
          if (s[pos] !== '=') fail(`expected "=" after auth-param "${name}"`);
          pos++;
          skipOws();
          let value: string;
          if (s[pos] === '"') value = readQuoted();
          else {
            value = readToken();
            if (!value) fail(`expected a value for auth-param "${name}"`);
          }
          const key = name.toLowerCase();
          // RFC 7235 §2.1: each parameter name MUST only occur once per challenge.
          if (Object.hasOwn(params, key)) fail(`duplicate auth-param "${name}"`);
          params[key] = value;
          skipOws();
          if (pos >= s.length) break;
          if (s[pos] !== ',') fail('expected "," between auth-params');
          skipSeparators();
          if (pos >= s.length || !paramAhead()) {
            separated = true;
            break;
          }
        }
      }
    }
    const challenge: AuthChallenge = token68 === undefined
      ? { scheme, schemeLower: scheme.toLowerCase(), params }
      : { scheme, schemeLower: scheme.toLowerCase(), params, token68 };
    challenges.push(challenge);
    skipOws();
    if (pos < s.length && !separated) {
      if (s[pos] !== ',') fail('expected "," between challenges');
      skipSeparators();
    }
  }
  if (challenges.length === 0) fail('no challenge');
  return challenges;
}

/** What an MCP client needs from a Bearer (or DPoP) challenge (RFC 6750 §3, RFC 9728 §5.1). */
export interface ResourceChallenge {
  readonly scheme: 'bearer' | 'dpop';
  /** `error`, e.g. `invalid_token` or `insufficient_scope`. */
  readonly error?: string;
  /** `scope` split on spaces; undefined when absent. */
  readonly scopes?: readonly string[];
  /** `resource_metadata` (RFC 9728 §5.1), when present. */
  readonly resourceMetadata?: string;
  /** All parameters of the challenge. */
  readonly params: Readonly<Record<string, string>>;
  /** The schemes the header offers, of `bearer` and `dpop` (RFC 9449 §7.1); set by readResourceChallenge. */
  readonly schemes?: readonly ('bearer' | 'dpop')[];
}

/** Options of {@link readResourceChallenge}. */
export interface ReadResourceChallengeOptions {
  /**
   * The scheme of the token the request carried. Its challenge is read; the other one only when
   * the header has none. Default `'bearer'`.
   */
  readonly scheme?: 'bearer' | 'dpop';
}

/**
 * Picks the challenge of the token's scheme (else the other of Bearer and DPoP) from a
 * `WWW-Authenticate` header. A server may offer both (RFC 9449 §7.2); its answer to a DPoP-bound
 * token, `use_dpop_nonce` (§9) or an error such as `insufficient_scope` (§7.1), is in the DPoP
 * one, which a Bearer-first pick would miss. Returns undefined when there is no header or no such
 * challenge; throws `invalid_challenge` for a malformed header.
 *
 * @example readResourceChallenge('Bearer realm="mcp", DPoP error="use_dpop_nonce"', { scheme: 'dpop' })?.error // 'use_dpop_nonce'
 */
export function readResourceChallenge(header: string | null | undefined, options: ReadResourceChallengeOptions = {}): ResourceChallenge | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const challenges = parseWwwAuthenticate(header);
  const preferred = options.scheme ?? 'bearer';
  const other = preferred === 'bearer' ? 'dpop' : 'bearer';
  const chosen = challenges.find((c) => c.schemeLower === preferred) ?? challenges.find((c) => c.schemeLower === other);
  if (!chosen) return undefined;
  const { params } = chosen;
  const scopes = params['scope']?.split(' ').filter(Boolean);
  const schemes = (['bearer', 'dpop'] as const).filter((scheme) => challenges.some((c) => c.schemeLower === scheme));
  return {
    scheme: chosen.schemeLower as 'bearer' | 'dpop',
    params,
    schemes,
    ...(params['error'] !== undefined && { error: params['error'] }),
    ...(scopes !== undefined && { scopes }),
    ...(params['resource_metadata'] !== undefined && { resourceMetadata: params['resource_metadata'] }),
  };
}
