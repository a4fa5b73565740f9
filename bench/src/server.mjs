// One variant's Express 5 server, in its own process so that its CPU time and RSS can be read
// from /proc/<pid>. Started by run.mjs with an IPC channel; reports { port } or { skip } and
// exits when the channel closes.
import express from 'express';
import { SkipVariant, variants } from './variants.mjs';

const name = process.env.BENCH_VARIANT;
const config = { issuer: process.env.BENCH_ISSUER, resource: process.env.BENCH_RESOURCE };
process.on('disconnect', () => process.exit(0));
// instructions.mjs starts the server with --expose-gc and collects before it counts, so that where
// the next major collection falls is the same from run to run.
process.on('message', (message) => {
  if (message === 'gc' && typeof globalThis.gc === 'function') {
    globalThis.gc();
    process.send('gc-done');
  }
});

let built;
try {
  const factory = variants[name];
  if (!factory) throw new SkipVariant(`unknown variant ${name}`);
  built = await factory(config);
} catch (error) {
  if (error instanceof SkipVariant) {
    process.send({ skip: error.message });
    process.exit(0);
  }
  process.send({ skip: `failed to start: ${error?.stack ?? error}` });
  process.exit(1);
}

const app = express();
app.disable('x-powered-by');
const handler = (_req, res) => {
  res.json({ ok: true });
};
if (built.middleware) app.get('/mcp', built.middleware, handler);
else app.get('/mcp', handler);
app.use(
  built.errorHandler ??
    ((err, _req, res, _next) => {
      res.status(err.status ?? 500).json({ error: 'server_error' });
    }),
);

const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
server.keepAliveTimeout = 60_000;
