#!/usr/bin/env node
// `pnpm demo`: starts the example MCP server (which starts the development authorization server in
// its own process, in auto-approve mode), runs the headless client through the whole authorization
// dance with a transcript, then stops the server and waits for it to exit. Needs the built examples
// (`tsc -b`), which the root `demo:run` script does first.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { runDemo } = await import(join(root, 'examples/mcp-client/dist/index.js'));

// oidc-provider's start-up warnings (Node 20 support, in-memory adapter) are expected for a dev server.
const EXPECTED_NOISE = /^oidc-provider WARNING: /;

const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', DEV_AS_INTERACTIONS: 'auto' };
for (const name of ['AUTH_ISSUER', 'MCP_RESOURCE', 'MCP_SCOPES', 'MCP_ADMIN_SCOPE', 'AUTH_TOKEN_FORMAT']) delete env[name];

console.log('Portcullis demo: an MCP server on Express guarded by @portcullis/bearer-auth, a development');
console.log('authorization server (oidc-provider), and a headless client on @portcullis/mcp-oauth-client.');
console.log('Tokens are never printed: only their claims and a short fingerprint (#…).\n');

// The IPC channel lets the server notice if this process dies without stopping it (it exits on 'disconnect').
const server = spawn(process.execPath, [join(root, 'examples/express-mcp-server/dist/main.js')], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
const exited = once(server, 'exit');
createInterface({ input: server.stderr }).on('line', (line) => {
  if (!EXPECTED_NOISE.test(line)) console.error(`[server] ${line}`);
});

async function stopServer() {
  if (server.exitCode !== null || server.signalCode !== null) return;
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopServer().then(() => process.exit(130));
  });
}

let status = 0;
try {
  let url;
  url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the example server did not print its URL within 30 s')), 30_000);
    createInterface({ input: server.stdout }).on('line', (line) => {
      console.log(`[server] ${line}`);
      const match = /^MCP server:\s+(\S+)/.exec(line);
      if (match) url = match[1];
      // The last line of the server's banner: it is up.
      if (line.startsWith('Stop with') && url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    exited.then(([code]) => reject(new Error(`the example server exited early (code ${code})`)));
  });
  await runDemo(url, (line) => console.log(line));
} catch (error) {
  console.error(`\n✗ Demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  status = 1;
} finally {
  await stopServer();
  console.log(`[server] stopped (${server.signalCode ?? `exit code ${server.exitCode}`})`);
}
process.exit(status);
