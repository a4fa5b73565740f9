import type { IncomingMessage } from 'node:http';
import { ConfigurationError } from '@portcullis/token-verification';
import { validateScopes } from '@portcullis/protected-resource-metadata';

/**
 * Scopes per MCP operation: JSON-RPC method → scopes, or, for the three methods that name their
 * target (`tools/call` and `prompts/get` by `params.name`, `resources/read` by `params.uri`),
 * name → scopes with an optional `'*'` for every other name.
 *
 * @example
 * ```ts
 * {
 *   'tools/list': ['mcp:tools'],
 *   'tools/call': { delete_repo: ['repo:admin'], '*': ['mcp:tools'] },
 *   'resources/read': { 'file:///secrets.txt': ['files:admin'] },
 * }
 * ```
 */
export type McpOperationScopes = Readonly<Record<string, readonly string[] | Readonly<Record<string, readonly string[]>>>>;

/** The param that names the target of a method (and whose value `Mcp-Name` mirrors, S-29). */
const NAME_PARAM: Readonly<Record<string, 'name' | 'uri'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** One JSON-RPC request or notification, as far as scopes are concerned. */
export interface McpOperation {
  readonly method: string;
  readonly name?: string | undefined;
}

/** A compiled {@link McpOperationScopes}: scopes for one operation. */
export type OperationScopeResolver = (operation: McpOperation) => readonly string[];

/** Validates the map once and compiles it into lookups with no prototype surprises. */
export function compileOperationScopes(map: unknown, option = 'operationScopes'): OperationScopeResolver {
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', `${option} must be an object mapping JSON-RPC methods to scopes`);
  }
  const byMethod = new Map<string, readonly string[] | Map<string, readonly string[]>>();
  for (const [method, value] of Object.entries(map)) {
    if (method === '') throw new ConfigurationError('ERR_INVALID_OPTIONS', `${option} has an empty method name`);
    if (Array.isArray(value)) {
      byMethod.set(method, validateScopes(value, `${option}['${method}']`));
    } else if (value !== null && typeof value === 'object') {
      if (!Object.hasOwn(NAME_PARAM, method)) {
        throw new ConfigurationError(
          'ERR_INVALID_OPTIONS',
          `${option}['${method}'] maps names to scopes, but only tools/call, prompts/get and resources/read name a target; give an array of scopes`,
        );
      }
      const names = new Map<string, readonly string[]>();
      for (const [name, scopes] of Object.entries(value as Record<string, unknown>)) {
        const key = method === 'resources/read' && name !== '*' ? resourceKey(name) : name;
        if (key === undefined) {
          throw new ConfigurationError('ERR_INVALID_OPTIONS', `${option}['${method}'] has a key that is not an absolute URI: ${JSON.stringify(name)}`);
        }
        names.set(key, validateScopes(scopes, `${option}['${method}']['${name}']`));
      }
      byMethod.set(method, names);
    } else {
      throw new ConfigurationError('ERR_INVALID_OPTIONS', `${option}['${method}'] must be an array of scopes or an object of name → scopes`);
    }
  }
  return ({ method, name }) => {
    const entry = byMethod.get(method);
    if (entry === undefined) return [];
    if (!(entry instanceof Map)) return entry;
    if (method === 'resources/read' && name !== undefined) {
      const key = resourceKey(name);
      // A URI the SDK cannot parse either is refused by it; until then it needs every listed scope.
      if (key === undefined) return [...new Set([...entry.values()].flat())];
      return entry.get(key) ?? entry.get('*') ?? [];
    }
    return (name !== undefined ? entry.get(name) : undefined) ?? entry.get('*') ?? [];
  };
}

/**
 * A resource URI as the MCP SDKs look it up (`new URL(uri).href`): `FILE:///a`, `file://localhost/a`,
 * `file:///x/../a` and `file:///%2e/a` all name `file:///a`, so they must need the same scopes.
 */
function resourceKey(uri: string): string | undefined {
  return URL.parse(uri)?.href;
}

/** A protocol-level refusal answered as a JSON-RPC error over HTTP (not an OAuth challenge). */
export class JsonRpcHttpError extends Error {
  constructor(
    readonly status: number,
    readonly rpcCode: number,
    message: string,
    readonly id: string | number | null = null,
  ) {
    super(message);
    this.name = 'JsonRpcHttpError';
  }
}

/** JSON-RPC `-32020 HeaderMismatch` (MCP 2026-07-28 Streamable HTTP §Server Validation, S-29). */
export const HEADER_MISMATCH = -32020;

/** Reads the operations of a JSON-RPC message or batch; entries that are not requests are skipped. */
export function operationsOf(body: unknown): McpOperation[] {
  const messages = Array.isArray(body) ? body : [body];
  const operations: McpOperation[] = [];
  for (const message of messages) {
    if (message === null || typeof message !== 'object') continue;
    const { method, params } = message as { method?: unknown; params?: unknown };
    if (typeof method !== 'string') continue;
    const param = Object.hasOwn(NAME_PARAM, method) ? NAME_PARAM[method] : undefined;
    const name = param && params !== null && typeof params === 'object' ? (params as Record<string, unknown>)[param] : undefined;
    operations.push({ method, name: typeof name === 'string' ? name : undefined });
  }
  return operations;
}

/** What the `Mcp-Method` / `Mcp-Name` headers (spec 2026-07-28) say, either of them possibly absent. */
export interface HeaderOperation {
  readonly method: string | undefined;
  readonly name: string | undefined;
  /** The header whose value is a malformed `=?base64?…?=` form, if one is. */
  readonly malformed?: string;
}

/** The `Mcp-Method` / `Mcp-Name` headers of the request, decoded, or undefined when it has neither. */
export function operationFromHeaders(req: IncomingMessage): HeaderOperation | undefined {
  const rawMethod = header(req, 'mcp-method');
  const rawName = header(req, 'mcp-name');
  if (rawMethod === undefined && rawName === undefined) return undefined;
  const method = rawMethod === undefined ? undefined : decodeHeaderValue(rawMethod);
  const name = rawName === undefined ? undefined : decodeHeaderValue(rawName);
  if (method === null) return { method: undefined, name: undefined, malformed: 'Mcp-Method' };
  if (name === null) return { method, name: undefined, malformed: 'Mcp-Name' };
  return { method, name };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A header value as the client meant it (MCP 2026-07-28 Streamable HTTP, standard headers): a value
 * that is not plain ASCII travels as `=?base64?{base64 of its UTF-8}?=`. `null` when that form is
 * malformed (not canonical base64, or not UTF-8): nothing it could be compared with.
 */
export function decodeHeaderValue(value: string): string | null {
  if (!value.startsWith(SENTINEL_PREFIX) || !value.endsWith(SENTINEL_SUFFIX) || value.length < SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length) {
    return value;
  }
  const payload = value.slice(SENTINEL_PREFIX.length, -SENTINEL_SUFFIX.length);
  if (!BASE64.test(payload)) return null;
  const bytes = Buffer.from(payload, 'base64');
  // Canonical only: unused bits set in the last character would let two spellings name one value.
  if (bytes.toString('base64') !== payload) return null;
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * S-29: a server that processes the body must reject a request whose `Mcp-Method` / `Mcp-Name`
 * headers disagree with it (400, JSON-RPC `-32020`). Every message of a batch must agree.
 */
export function assertHeadersMatch(fromHeaders: HeaderOperation, body: unknown, operations: readonly McpOperation[]): void {
  assertWellFormed(fromHeaders, idOf(body));
  for (const op of operations) {
    // An `Mcp-Name` without `Mcp-Method` is compared too: whoever routes or authorizes on it trusts it.
    const reason =
      fromHeaders.method !== undefined && op.method !== fromHeaders.method
        ? `Mcp-Method header "${fromHeaders.method}" does not match the body's method "${op.method}"`
        : fromHeaders.name !== undefined && op.name !== fromHeaders.name
          ? `Mcp-Name header "${fromHeaders.name}" does not match the body's ${NAME_PARAM[op.method] ?? 'name'} "${op.name ?? ''}"`
          : undefined;
    if (reason) throw new JsonRpcHttpError(400, HEADER_MISMATCH, `Header mismatch: ${reason}`, idOf(body));
  }
}

/** A malformed `=?base64?…?=` header value: 400, `-32020`, whatever the body says. */
export function assertWellFormed(fromHeaders: HeaderOperation, id: string | number | null = null): void {
  if (fromHeaders.malformed !== undefined) {
    throw new JsonRpcHttpError(400, HEADER_MISMATCH, `Header mismatch: the ${fromHeaders.malformed} header is not valid =?base64?…?= encoding`, id);
  }
}

function idOf(body: unknown): string | number | null {
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const id = (body as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return id;
  }
  return null;
}
