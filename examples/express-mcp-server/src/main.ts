#!/usr/bin/env node
// `pnpm -s example:server`: the example MCP server, configured from the environment (see config.ts).
import { optionsFromEnv } from './config.js';
import { startExampleServer } from './server.js';

const server = await startExampleServer(optionsFromEnv(process.env)).catch((error: unknown) => {
  console.error(`Could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

console.log(`MCP server:                   ${server.url}`);
console.log(`Protected resource metadata:  ${server.metadataUrl}`);
console.log(
  `Authorization server:         ${server.issuer}${server.devAuthorizationServer ? ' (development server, in this process; not for production)' : ''}`,
);
console.log(`Scopes:                       every request needs ${server.scopes.join(' ')}; admin_report also needs ${server.adminScope}`);
console.log(
  server.upstream
    ? `Upstream API:                 ${server.upstream.url} (tool upstream_whoami: token exchange as client ${server.upstream.clientId})`
    : 'Upstream API:                 off (with AUTH_ISSUER, set UPSTREAM_CLIENT_ID and UPSTREAM_CLIENT_SECRET for upstream_whoami)',
);
console.log('Stop with Ctrl-C (SIGINT) or SIGTERM.');

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  server.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`Error while stopping: ${String(error)}`);
      process.exit(1);
    },
  );
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// Started by a parent with an IPC channel (as `pnpm demo` does): stop when the parent goes away, even if it was killed.
if (process.send) process.on('disconnect', stop);
