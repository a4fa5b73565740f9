import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  asStoredTokens,
  createHeadlessAuthorizationHandler,
  createMemoryStore,
  createOAuthClient,
  createSafeFetch,
  withOAuth,
} from '@portcullis/mcp-oauth-client';
import { describeToken, fingerprint, traceFetch, type Print } from './trace.js';

type ToolResult = Awaited<ReturnType<Client['callTool']>>;

function textOf(result: ToolResult): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => (c.type === 'text' ? (c.text ?? '') : `[${c.type}]`)).join('\n');
}

/**
 * The headless walk-through behind `npm run demo`, against a running example server whose development
 * authorization server auto-approves: 401 → discovery → registration → authorization → token →
 * `whoami` → `upstream_whoami` (the server calls a second API with an exchanged token) →
 * `admin_report` → 403 `insufficient_scope` → step-up → success → refresh. Prints a transcript;
 * throws when a step does not turn out as described.
 */
export async function runDemo(mcpUrl: string, print: Print = console.log): Promise<void> {
  const mcp = new URL(mcpUrl);
  const nameOf = (url: URL) => (url.origin === mcp.origin ? 'MCP server' : `auth server ${url.host}`);
  // The headless handler never opens the redirect URI, so nothing needs to listen on it.
  const redirectUri = 'http://127.0.0.1:8976/callback';
  const store = createMemoryStore();
  const oauth = createOAuthClient({
    redirectUri,
    // Development only: the demo's servers are plain http on 127.0.0.1.
    allowInsecureLoopback: true,
    authorizationHandler: createHeadlessAuthorizationHandler(),
    store,
    clientMetadata: { client_name: 'Portcullis demo client', redirect_uris: [redirectUri] },
    oauthFetch: traceFetch(createSafeFetch({ allowInsecureLoopback: true }), print, nameOf),
  });
  const fetch = withOAuth(traceFetch(globalThis.fetch, print, nameOf), oauth);
  const client = new Client({ name: 'portcullis-demo', version: '0.0.0' });

  print(`\n▶ 1. Connect to ${mcpUrl}: 401 → discovery → registration → authorization → token`);
  await client.connect(new StreamableHTTPClientTransport(mcp, { fetch }));
  const context = await oauth.context(mcpUrl);
  const granted = () => store.get(context.tokensKey).then(asStoredTokens);
  print(`  ✓ connected as client ${context.client.clientId} (${context.client.source} registration); granted scope="${(await granted())?.scope}"`);

  print('\n▶ 2. Call whoami');
  const whoami = textOf(await client.callTool({ name: 'whoami', arguments: {} }));
  print(`  ✓ whoami → ${whoami.replace(/\s+/g, ' ')}`);

  print('\n▶ 3. Call upstream_whoami: the server calls a second API for you with a token exchanged for it (RFC 8693), not yours');
  const upstream = await client.callTool({ name: 'upstream_whoami', arguments: {} });
  if (upstream.isError) throw new Error(`upstream_whoami failed: ${textOf(upstream)}`);
  const { upstreamSaw: saw } = JSON.parse(textOf(upstream)) as {
    upstreamSaw: { sub: unknown; act: unknown; aud: unknown; client_id: unknown; token_fingerprint: unknown };
  };
  const mine = (await granted())!.accessToken;
  print(
    `  ✓ upstream_whoami → the upstream API saw token ${String(saw.token_fingerprint)}: aud=${String(saw.aud)} sub=${String(saw.sub)} act=${JSON.stringify(saw.act)} client_id=${String(saw.client_id)}`,
  );
  print(`  your token ${describeToken(mine)} never reached it: the MCP server exchanged it for that one`);
  if (!saw.act || saw.aud === mcpUrl || saw.token_fingerprint === fingerprint(mine)) throw new Error('the upstream API did not see an exchanged token');

  print('\n▶ 4. Call admin_report: it needs mcp:admin, which the token lacks → 403 insufficient_scope → step-up');
  const report = await client.callTool({ name: 'admin_report', arguments: {} });
  if (report.isError) throw new Error(`admin_report failed: ${textOf(report)}`);
  print(`  ✓ admin_report → ${textOf(report).replace(/\s+/g, ' ')}`);
  print(`  granted scope now="${(await granted())?.scope}"`);

  print('\n▶ 5. Refresh: pretend the access token expired (its expiry is moved into the past in the local store)');
  const before = (await granted())!;
  await store.set(context.tokensKey, { ...before, expiresAt: Date.now() - 1000 });
  const again = textOf(await client.callTool({ name: 'whoami', arguments: {} }));
  const after = (await granted())!;
  if (after.accessToken === before.accessToken) throw new Error('the access token was not refreshed');
  if (after.refreshToken === before.refreshToken) throw new Error('the refresh token was not rotated');
  print(`  ✓ whoami → ${again.replace(/\s+/g, ' ')}`);
  print(`  new access token: ${describeToken(after.accessToken)}; the refresh token was rotated`);

  await client.close();
  print('\n✓ Demo complete.');
}
