import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { isAuthInfo, type AuthInfo } from '@portcullis/token-verification';
import { UpstreamTokenError } from '@portcullis/upstream-tokens';
import { z } from 'zod';

/** `bearerAuth` puts a `@portcullis/token-verification` AuthInfo on `req.auth`; the SDK hands it over unchanged. */
const caller = (authInfo: unknown): AuthInfo | undefined => (isAuthInfo(authInfo) ? authInfo : undefined);

const text = (value: unknown): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] });
const failure = (message: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text: message }] });

/** The upstream API the `upstream_whoami` tool calls, and how to call it for one caller. */
export interface UpstreamTool {
  /** The upstream API's endpoint (and audience). */
  readonly url: string;
  /**
   * A `fetch` for calls on behalf of `caller`: it attaches a token exchanged for the upstream
   * (RFC 8693, cached per caller token), never `caller.token` (no token passthrough, S-13 B-01).
   */
  fetchFor(caller: AuthInfo): typeof fetch;
}

/**
 * The example's MCP server: three tools, and `upstream_whoami` when an upstream API is configured.
 * Authorization is not decided here: `bearerAuth` has already refused requests without `mcp:tools`,
 * and `admin_report` calls without `mcp:admin`, before the SDK sees them. The tools only read who is
 * calling from `extra.authInfo` (the `AuthInfo` on `req.auth`).
 */
export function createMcpServer(stats: { readonly startedAt: Date; requests: number }, upstream?: UpstreamTool): McpServer {
  const server = new McpServer({ name: 'portcullis-example', version: '0.0.0' });

  server.registerTool(
    'whoami',
    { title: 'Who am I', description: 'The subject, client id and scopes of the access token this call was made with.' },
    async (extra) => {
      const auth = caller(extra.authInfo);
      return text({
        subject: auth?.subject ?? null,
        clientId: auth?.clientId ?? null,
        scopes: auth?.scopes ?? [],
      });
    },
  );

  server.registerTool(
    'echo',
    { title: 'Echo', description: 'Sends the message back.', inputSchema: { message: z.string().max(10_000) } },
    async ({ message }) => ({ content: [{ type: 'text', text: message }] }),
  );

  server.registerTool(
    'admin_report',
    { title: 'Admin report', description: 'A small report on this server. Needs the mcp:admin scope.' },
    async (extra) =>
      text({
        report: 'portcullis example server',
        requestedBy: caller(extra.authInfo)?.subject ?? null,
        startedAt: stats.startedAt.toISOString(),
        mcpRequestsServed: stats.requests,
      }),
  );

  if (upstream) {
    server.registerTool(
      'upstream_whoami',
      {
        title: 'Upstream who am I',
        description:
          'Calls a second API on behalf of the caller with a token exchanged for it (RFC 8693), never the caller’s own token, and shows the sub, act, aud, client_id and token fingerprint that API saw.',
      },
      async (extra) => {
        const auth = caller(extra.authInfo);
        if (!auth) return failure('no verified caller');
        try {
          // Not `auth.token`: upstreamFetch sets `Authorization` from the exchanged token only.
          const response = await upstream.fetchFor(auth)(upstream.url, { signal: AbortSignal.timeout(15_000) });
          if (!response.ok) return failure(`the upstream API answered ${response.status}`);
          return text({ upstream: upstream.url, upstreamSaw: await response.json() });
        } catch (error) {
          // UpstreamTokenError messages name the endpoint and the OAuth error, never a token.
          return failure(`the upstream call failed: ${error instanceof UpstreamTokenError ? error.message : 'the upstream API could not be reached'}`);
        }
      },
    );
  }
  return server;
}
