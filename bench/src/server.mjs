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
  if (message === 'timing') process.send({ timing: { ns: Number(timing.ns), count: timing.count } });
  // run.mjs's flood check: how many of these tokens the variant answers from its cache.
  if (Array.isArray(message?.cached)) {
    process.send({ cached: built.remembered ? message.cached.filter((token) => built.remembered(token)).length : null });
  }
});

// paired.mjs --time-middleware starts the servers with BENCH_TIME_MIDDLEWARE=1: the time from the
// middleware's call to its synchronous next() (what it costs on the loaded server, where its code
// and data have left the CPU caches), summed and read over IPC. Answers given later (a promise) are
// not counted.
const timing = { ns: 0n, count: 0 };
function timed(middleware) {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    let sync = true;
    middleware(req, res, (error) => {
      if (sync) {
        timing.ns += process.hrtime.bigint() - start;
        timing.count++;
      }
      next(error);
    });
    sync = false;
  };
}

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
if (built.middleware) app.get('/mcp', process.env.BENCH_TIME_MIDDLEWARE ? timed(built.middleware) : built.middleware, handler);
else app.get('/mcp', handler);
app.use(
  built.errorHandler ??
    ((err, _req, res, _next) => {
      res.status(err.status ?? 500).json({ error: 'server_error' });
    }),
);

const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
server.keepAliveTimeout = 60_000;
