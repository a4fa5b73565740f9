import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  createEncryptedFileStore,
  createFileLock,
  createHeadlessAuthorizationHandler,
  createLoopbackAuthorizationHandler,
  createOAuthClient,
  isLoopbackHost,
  keyFileSource,
  withOAuth,
  type AuthorizationHandler,
  type Logger,
} from '@portcullis/mcp-oauth-client';

export const USAGE = `usage: example:client <mcp-url> [tool] [json-arguments] [options]

Signs in (first run), lists the server's tools and calls one. Tokens are kept encrypted on disk;
later runs reuse them (and refresh them) without signing in again.

options:
  --headless             follow the authorization redirects without a browser (for a dev AS in auto mode)
  --no-browser           print the sign-in URL instead of opening the system browser
  --callback-port <n>    port of the loopback redirect URI http://127.0.0.1:<n>/callback (default 8976)
  --store <dir>          token store directory (default ~/.portcullis/mcp-client)
  --key-file <path>      keep the store key in this file instead of the OS keychain
  --sign-out             forget the stored tokens for this server and exit
  --help`;

/** Where the CLI writes: results to `out`, progress and the sign-in URL to `err`. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const defaultIo: CliIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** The example CLI as a function (`main.ts` calls it with `process.argv`): resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        headless: { type: 'boolean', default: false },
        'no-browser': { type: 'boolean', default: false },
        'callback-port': { type: 'string', default: '8976' },
        store: { type: 'string', default: join(homedir(), '.portcullis', 'mcp-client') },
        'key-file': { type: 'string' },
        'sign-out': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const [serverUrl, tool, json] = positionals;
  const port = Number(values['callback-port']);
  if (!serverUrl || positionals.length > 3 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    io.err(USAGE);
    return 2;
  }
  let args: Record<string, unknown> = {};
  if (json !== undefined) {
    try {
      args = JSON.parse(json) as Record<string, unknown>;
    } catch {
      io.err(`json-arguments is not JSON: ${json}`);
      return 2;
    }
  }

  const logger: Logger = { warn: (message) => io.err(message) };
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const inner: AuthorizationHandler = values.headless
    ? createHeadlessAuthorizationHandler()
    : createLoopbackAuthorizationHandler({ mode: values['no-browser'] ? 'print' : 'browser', logger });
  let signedIn = false;
  const authorizationHandler: AuthorizationHandler = (url, context) => {
    signedIn = true;
    io.err(`Signing in at ${url.origin} (scope "${url.searchParams.get('scope') ?? ''}")…`);
    return inner(url, context);
  };
  const oauth = createOAuthClient({
    redirectUri,
    authorizationHandler,
    store: createEncryptedFileStore({ directory: values.store, logger, ...(values['key-file'] && { key: keyFileSource(values['key-file'], logger) }) }),
    lock: createFileLock({ directory: join(values.store, 'locks') }),
    clientMetadata: { client_name: 'Portcullis example CLI', redirect_uris: [redirectUri] },
    // Development convenience, loudly: plain http is allowed only when the MCP server itself is on loopback.
    allowInsecureLoopback: isLoopbackHost(new URL(serverUrl)),
    logger,
  });

  if (values['sign-out']) {
    await oauth.signOut(serverUrl);
    io.err(`Signed out of ${serverUrl}.`);
    return 0;
  }

  const client = new Client({ name: 'portcullis-example-cli', version: '0.0.0' });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { fetch: withOAuth(globalThis.fetch, oauth) }));
    io.err(signedIn ? 'Signed in; tokens saved (encrypted).' : 'Using the stored tokens (no sign-in needed).');
    const { tools } = await client.listTools();
    io.out(`tools: ${tools.map((t) => t.name).join(', ')}`);
    if (tool !== undefined) {
      const result = await client.callTool({ name: tool, arguments: args });
      const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
      for (const part of content) io.out(part.type === 'text' ? (part.text ?? '') : `[${part.type}]`);
      if (result.isError) return 1;
    }
    return 0;
  } catch (error) {
    io.err(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await client.close();
  }
}
