/** A JSON object as stored. */
export type StoredValue = { readonly [key: string]: unknown };

/**
 * Where tokens and registered clients live: three methods, any backend. Values are JSON objects.
 * Implementations must make `set` atomic per key; cross-process consistency comes from a {@link RefreshLock}.
 */
export interface TokenStore {
  get(key: string): Promise<StoredValue | undefined>;
  set(key: string, value: StoredValue): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Tokens for one (account, issuer, client, resource). Times are absolute epoch milliseconds. */
export interface StoredTokens {
  readonly accessToken: string;
  /** `Bearer` or `DPoP`. */
  readonly tokenType: string;
  /** Absolute expiry (epoch ms) computed from `expires_in` when received; undefined when the AS gave none. */
  readonly expiresAt?: number;
  readonly refreshToken?: string;
  /** Granted scopes, space-separated (the token response's `scope`, else what was requested). */
  readonly scope?: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly resource: string;
}

/** Client credentials, bound to the issuer that issued them (C-18). */
export interface StoredClient {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly tokenEndpointAuthMethod: string;
  /** How the client came to be: `pre-registered`, `cimd` or `dynamic` (RFC 7591). */
  readonly source: 'pre-registered' | 'cimd' | 'dynamic';
  /** The redirect URIs it was registered with (re-register when they change). */
  readonly redirectUris?: readonly string[];
}

/** The store key of the tokens for one (account, issuer, client, resource). */
export function tokensKey(parts: { account: string; issuer: string; clientId: string; resource: string }): string {
  return `tokens ${JSON.stringify([parts.account, parts.issuer, parts.clientId, parts.resource])}`;
}

/** The parts of a {@link tokensKey}, or undefined for any other key. */
export function tokensKeyParts(key: string): { account: string; issuer: string; clientId: string; resource: string } | undefined {
  if (!key.startsWith('tokens ')) return undefined;
  let parts: unknown;
  try {
    parts = JSON.parse(key.slice('tokens '.length));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts) || parts.length !== 4 || !parts.every(isString)) return undefined;
  const [account, issuer, clientId, resource] = parts as [string, string, string, string];
  return { account, issuer, clientId, resource };
}

/** The store key of the list of {@link tokensKey}s one account's tokens for one MCP server were filed under. */
export function tokensFilingKey(parts: { account: string; serverUrl: string }): string {
  return `filed ${JSON.stringify([parts.account, parts.serverUrl])}`;
}

/** Reads a filing back: only keys of tokens (signOut also checks whose), so a damaged record names nothing else to delete. */
export function asFiledTokensKeys(value: StoredValue | undefined): string[] {
  const keys = value?.['tokensKeys'];
  return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string' && k.startsWith('tokens ')) : [];
}

/** The store key of a dynamically registered client, keyed by the issuer (C-05, C-18). */
export function clientKey(issuer: string): string {
  return `client ${JSON.stringify([issuer])}`;
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

/** Reads a {@link StoredTokens} back, or undefined when the value has another shape. */
export function asStoredTokens(value: StoredValue | undefined): StoredTokens | undefined {
  if (!value || !isString(value['accessToken']) || !isString(value['issuer']) || !isString(value['clientId']) || !isString(value['resource'])) return undefined;
  return value as unknown as StoredTokens;
}

/** Reads a {@link StoredClient} back, or undefined when the value has another shape. */
export function asStoredClient(value: StoredValue | undefined): StoredClient | undefined {
  if (!value || !isString(value['issuer']) || !isString(value['clientId']) || !isString(value['tokenEndpointAuthMethod'])) return undefined;
  return value as unknown as StoredClient;
}

/** An in-memory {@link TokenStore}: values are copied in and out, so callers cannot mutate what is stored. */
export function createMemoryStore(): TokenStore {
  const values = new Map<string, string>();
  return {
    get: async (key) => {
      const raw = values.get(key);
      return raw === undefined ? undefined : (JSON.parse(raw) as StoredValue);
    },
    set: async (key, value) => {
      values.set(key, JSON.stringify(value));
    },
    delete: async (key) => {
      values.delete(key);
    },
  };
}
