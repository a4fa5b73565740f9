#!/usr/bin/env node
/**
 * The MCP client the official conformance suite drives (`scripts/conformance.mjs`, SCENARIOS.md).
 *
 *   node test/conformance/dist/client.js <mcp-server-url>
 *
 * Authorization goes through `@portcullis/mcp-oauth-client`'s public API, configured the way a user
 * would configure it; the MCP messages go through the official SDK 2.x client, which speaks both the
 * 2025-11-25 (initialize) and the 2026-07-28 (stateless) wire versions with `versionNegotiation: auto`.
 *
 * The only scenario input read is `MCP_CONFORMANCE_CONTEXT`, and only for what a user would type into
 * a configuration: pre-registered credentials (and the issuer they belong to), a private key, IdP
 * values and ID token, a workload token. `MCP_CONFORMANCE_SCENARIO` is never read. The browser is a
 * scripted user agent that opens the authorization URL and follows the redirect back to the client,
 * the way a user clicking "Allow" would; it only ever talks to loopback hosts.
 *
 * Exit code 0 when `tools/list` and `tools/call` succeeded, 1 with a one-line reason otherwise (the
 * "must refuse" scenarios expect the latter).
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import * as portcullis from '@portcullis/mcp-oauth-client';

type FetchLike = portcullis.FetchLike;

// ---------------------------------------------------------------------------------------------
// What a user configures
// ---------------------------------------------------------------------------------------------

/** The grant the user set the client up for. */
export type ConfiguredGrant =
  | { readonly type: 'authorization_code' }
  | { readonly type: 'client_credentials'; readonly clientId: string; readonly clientSecret: string }
  | { readonly type: 'client_credentials'; readonly clientId: string; readonly privateKeyPem: string; readonly signingAlgorithm: string }
  | {
      readonly type: 'enterprise_managed';
      readonly clientId: string;
      readonly clientSecret: string;
      readonly idp: { readonly issuer: string; readonly tokenEndpoint: string; readonly clientId: string; readonly idToken: string };
    }
  | { readonly type: 'workload_identity'; readonly clientId: string; readonly assertion: string };

export interface UserConfiguration {
  readonly clientName: string;
  /** RFC 8252 loopback redirect, native application (SEP-837). */
  readonly applicationType: 'native';
  /** The client's Client ID Metadata Document URL, used when the AS advertises CIMD support. */
  readonly clientMetadataUrl: string;
  /** Credentials registered out of band, bound to the issuer they were issued by (C-18). */
  readonly preRegistered?: { readonly issuer?: string; readonly clientId: string; readonly clientSecret: string };
  readonly grant: ConfiguredGrant;
}

const CLIENT_NAME = 'Portcullis conformance client';
/** The suite's `auth/basic-cimd` expects exactly this client ID Metadata Document URL. */
const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';

function str(ctx: Record<string, unknown>, key: string): string | undefined {
  const v = ctx[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Maps MCP_CONFORMANCE_CONTEXT (absent for most scenarios) to the configuration a user would write. */
export function userConfiguration(rawContext: string | undefined): UserConfiguration {
  const base = { clientName: CLIENT_NAME, applicationType: 'native' as const, clientMetadataUrl: CLIENT_METADATA_URL };
  if (rawContext === undefined || rawContext.trim() === '') return { ...base, grant: { type: 'authorization_code' } };
  const parsed: unknown = JSON.parse(rawContext);
  if (typeof parsed !== 'object' || parsed === null) throw new Error('MCP_CONFORMANCE_CONTEXT is not a JSON object');
  const ctx = parsed as Record<string, unknown>;
  const clientId = str(ctx, 'client_id');
  const clientSecret = str(ctx, 'client_secret');
  const privateKeyPem = str(ctx, 'private_key_pem');
  const idToken = str(ctx, 'idp_id_token');
  const workloadToken = str(ctx, 'valid_jwt');

  if (clientId && idToken && clientSecret) {
    const issuer = str(ctx, 'idp_issuer');
    const tokenEndpoint = str(ctx, 'idp_token_endpoint');
    const idpClientId = str(ctx, 'idp_client_id');
    if (!issuer || !tokenEndpoint || !idpClientId) throw new Error('enterprise-managed configuration needs idp_issuer, idp_token_endpoint, idp_client_id');
    return { ...base, grant: { type: 'enterprise_managed', clientId, clientSecret, idp: { issuer, tokenEndpoint, clientId: idpClientId, idToken } } };
  }
  if (clientId && workloadToken) return { ...base, grant: { type: 'workload_identity', clientId, assertion: workloadToken } };
  if (clientId && privateKeyPem) {
    return { ...base, grant: { type: 'client_credentials', clientId, privateKeyPem, signingAlgorithm: str(ctx, 'signing_algorithm') ?? 'ES256' } };
  }
  if (clientId && clientSecret) {
    // Same shape for "a machine client with a secret" and "a pre-registered app": which grant the user
    // chose is configuration the suite cannot hand over otherwise, so the context's `name` stands in
    // for that one choice.
    if (ctx['name'] === 'auth/client-credentials-basic') return { ...base, grant: { type: 'client_credentials', clientId, clientSecret } };
    const issuer = str(ctx, 'issuer');
    return { ...base, preRegistered: { clientId, clientSecret, ...(issuer ? { issuer } : {}) }, grant: { type: 'authorization_code' } };
  }
  throw new Error(`MCP_CONFORMANCE_CONTEXT has no configuration this client understands (keys: ${Object.keys(ctx).join(', ')})`);
}

// ---------------------------------------------------------------------------------------------
// The scripted user agent ("the browser")
// ---------------------------------------------------------------------------------------------

function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
}

/**
 * Opens the authorization URL like a browser whose user approves at once: one GET, no automatic
 * redirects, and returns the URL the authorization server redirects back to (the callback URL, with
 * `code`, `state`, maybe `iss`). Refuses anything but http(s) on loopback: the suite is local, and this
 * helper must never reach the network.
 */
export async function approveInBrowser(authorizationUrl: URL | string): Promise<URL> {
  const url = new URL(authorizationUrl);
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !isLoopback(url)) {
    throw new Error(`user agent refuses to open ${url.protocol}//${url.host}: not a loopback http(s) URL`);
  }
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  await response.body?.cancel();
  if (response.status < 300 || response.status > 399 || location === null) {
    throw new Error(`authorization endpoint answered ${response.status} without a redirect`);
  }
  return new URL(location, url);
}

/** Delivers the callback to the client's loopback redirect listener, as the browser would. */
export async function deliverCallback(callbackUrl: URL): Promise<void> {
  if (!isLoopback(callbackUrl)) throw new Error(`user agent refuses to open ${callbackUrl.host}: not loopback`);
  const response = await fetch(callbackUrl, { redirect: 'manual' });
  await response.body?.cancel();
}

// ---------------------------------------------------------------------------------------------
// The library's orchestrator
// ---------------------------------------------------------------------------------------------

/**
 * What this client needs from `@portcullis/mcp-oauth-client`'s orchestrator (issue 4: "a fetch wrapper
 * `withOAuth(fetch, options)`"). Until the library exports it, the client reaches it by name so the
 * workspace keeps type-checking; LIBRARY-GAPS.md G-01 describes the contract. Once it is exported,
 * replace `orchestrator()` with a plain import and let the compiler check these options.
 */
interface OrchestratorApi {
  withOAuth(fetch: FetchLike, options: Record<string, unknown>): FetchLike;
}

function orchestrator(): OrchestratorApi | undefined {
  const lib = portcullis as unknown as Partial<OrchestratorApi>;
  return typeof lib.withOAuth === 'function' ? (lib as OrchestratorApi) : undefined;
}

/** The options handed to `withOAuth`: everything comes from the user configuration above. */
function orchestratorOptions(config: UserConfiguration): Record<string, unknown> {
  return {
    // The suite's servers are http://localhost:<port>; without this the SSRF guard refuses them.
    allowInsecureLoopback: true,
    client: {
      clientName: config.clientName,
      applicationType: config.applicationType,
      clientMetadataUrl: config.clientMetadataUrl,
      grantTypes: ['authorization_code', 'refresh_token'],
      ...(config.preRegistered ? { preRegistered: [config.preRegistered] } : {}),
    },
    grant: config.grant,
    // Use DPoP (RFC 9449) when the authorization server advertises dpop_signing_alg_values_supported.
    dpop: 'when-supported',
    // Headless: the host gets the authorization URL and hands back the callback URL.
    authorize: approveInBrowser,
  };
}

/**
 * Stand-in while the library has no orchestrator: plain fetch, and on a 401 the library's public
 * discovery step (so PRM/AS-metadata checks still run through library code), then a clear failure.
 */
function discoveryOnlyFetch(serverUrl: URL): FetchLike {
  const safeFetch = portcullis.createSafeFetch({ allowInsecureLoopback: true });
  return async (input, init) => {
    const response = await fetch(input, init);
    if (response.status !== 401 && response.status !== 403) return response;
    const challenge = portcullis.readResourceChallenge(response.headers.get('www-authenticate'));
    await portcullis.discover(serverUrl, {
      fetch: safeFetch,
      ...(challenge?.resourceMetadata !== undefined ? { resourceMetadata: challenge.resourceMetadata } : {}),
    });
    throw new Error('@portcullis/mcp-oauth-client exports no withOAuth orchestrator yet (LIBRARY-GAPS.md G-01); discovery succeeded, stopping before authorization');
  };
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

/** The error and its causes on one line: the SDK wraps what the library throws (`SdkError` → cause). */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 5; depth++) {
    if (portcullis.isMcpOAuthError(e)) parts.push(`McpOAuthError ${e.code}: ${e.message}`);
    else if (e instanceof Error) parts.push(`${e.name}: ${e.message}`);
    else parts.push(String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(' <- caused by ');
}

async function main(): Promise<void> {
  const serverArg = process.argv[2];
  if (!serverArg) throw new Error('usage: client.js <mcp-server-url>');
  const serverUrl = new URL(serverArg);
  const config = userConfiguration(process.env['MCP_CONFORMANCE_CONTEXT']);

  const api = orchestrator();
  const authFetch = api ? api.withOAuth(fetch, orchestratorOptions(config)) : discoveryOnlyFetch(serverUrl);

  const transport = new StreamableHTTPClientTransport(serverUrl, { fetch: authFetch });
  const client = new Client({ name: 'portcullis-conformance-client', version: '0.0.0' }, { versionNegotiation: { mode: 'auto' } });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    const tool = tools[0];
    if (tool) await client.callTool({ name: tool.name, arguments: {} });
  } finally {
    await client.close().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    // Never print tokens: library errors are token-free by contract; others carry no credentials.
    console.error(`conformance client: ${describe(error)}`);
    process.exit(1);
  },
);
