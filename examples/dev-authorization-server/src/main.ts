#!/usr/bin/env node
// The development authorization server as a program: prints its issuer, stops cleanly on SIGINT/SIGTERM.
// Not for production: in-memory state, any user name signs in, fresh signing keys at each start.
import { parseArgs } from 'node:util';
import { startDevAuthorizationServer } from './server.js';

const USAGE = `usage: node dist/main.js [--port 9000] [--host 127.0.0.1] [--resource <mcp url>]… [--scopes "mcp:tools mcp:admin"]
                         [--format jwt|opaque] [--interactions browser|auto] [--subject demo-user]`;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9000' },
    host: { type: 'string', default: '127.0.0.1' },
    resource: { type: 'string', multiple: true, default: ['http://127.0.0.1:3000/mcp'] },
    scopes: { type: 'string', default: 'mcp:tools mcp:admin' },
    format: { type: 'string', default: 'jwt' },
    interactions: { type: 'string', default: 'browser' },
    subject: { type: 'string', default: 'demo-user' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a port number\n${USAGE}`);
  process.exit(2);
}
if ((values.format !== 'jwt' && values.format !== 'opaque') || (values.interactions !== 'auto' && values.interactions !== 'browser')) {
  console.error(`--format is jwt or opaque, --interactions is browser or auto\n${USAGE}`);
  process.exit(2);
}
const format = values.format;
const scopes = values.scopes.split(/[\s,]+/).filter(Boolean);

const server = await startDevAuthorizationServer({
  host: values.host,
  port,
  resources: values.resource.map((uri) => ({ uri, scopes, format })),
  interactions: values.interactions,
  subject: values.subject,
});
console.log(`Issuer: ${server.issuer}`);
console.log(`Development authorization server (not for production); resources: ${values.resource.join(' ')}; scopes: ${scopes.join(' ')}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Error while stopping: ${String(error)}`);
        process.exit(1);
      },
    );
  });
}
