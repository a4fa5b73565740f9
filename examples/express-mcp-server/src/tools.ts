import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuthInfo } from '@portcullis/token-verification';
import { z } from 'zod';

/** `bearerAuth` puts a `@portcullis/token-verification` AuthInfo on `req.auth`; the SDK hands it over unchanged. */
const caller = (authInfo: unknown): AuthInfo | undefined => authInfo as AuthInfo | undefined;

const text = (value: unknown): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] });

/**
 * The example's MCP server: three tools. Authorization is not decided here: `bearerAuth` has already
 * refused requests without `mcp:tools`, and `admin_report` calls without `mcp:admin`, before the SDK
 * sees them. The tools only read who is calling from `extra.authInfo` (the `AuthInfo` on `req.auth`).
 */
export function createMcpServer(stats: { readonly startedAt: Date; requests: number }): McpServer {
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
  return server;
}
