#!/usr/bin/env node
// A diagnostic beside `pnpm bench`: the ratio of a variant's requests/s to the plain route's, with
// both servers loaded AT THE SAME TIME on the same pinned CPU, each by its own wrk. The scheduler
// shares the CPU between them, so whatever the rest of the machine does hits both at once and the
// ratio is that of their costs per request: far steadier on a shared machine than cells measured
// one after the other. Needs wrk (Debian: `apt-get install wrk`), taskset and two CPUs; prints only.
//
//   node bench/src/paired.mjs [--variants=portcullis,empty-middleware] [--scenarios=same-es256,malformed]
//                             [--rounds=5] [--duration=3] [--time-middleware]
//
// --time-middleware adds a column: µs from the middleware's call to its synchronous next(), on the
// loaded server (timed with hrtime in server.mjs, which adds about 0.1 µs).
import { execFile, execFileSync } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUDIENCE, createKeys, mint } from './tokens.mjs';
import { cpuMicros } from './proc.mjs';
import { ask, startNode, stop } from './processes.mjs';
import { median } from './stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const VARIANTS = (args.get('variants') ?? 'portcullis,empty-middleware').split(',');
const SCENARIOS = (args.get('scenarios') ?? 'same-es256,same-rs256,malformed,no-token').split(',');
const ROUNDS = Number(args.get('rounds') ?? 5);
const DURATION = Number(args.get('duration') ?? 3);
const TIME_MIDDLEWARE = args.has('time-middleware');

for (const tool of [['wrk', '--version'], ['taskset', '-V']]) {
  try {
    execFileSync(tool[0], [tool[1]], { stdio: 'ignore' });
  } catch (error) {
    // wrk --version exits 1 after printing; only a missing binary matters.
    if (error.code === 'ENOENT') {
      console.log(`paired.mjs needs ${tool[0]} (Debian: apt-get install ${tool[0] === 'wrk' ? 'wrk' : 'util-linux'}); skipped.`);
      process.exit(0);
    }
  }
}
const cpus = os.cpus().length;
if (cpus < 2) {
  console.log('paired.mjs needs two CPUs (servers on one, load generators on the other); skipped.');
  process.exit(0);
}
const SERVER_CPU = String(cpus - 1);
const CLIENT_CPUS = cpus === 2 ? '0' : `0-${cpus - 2}`;

/** One wrk run: 1 thread, 50 connections, keep-alive. */
function wrk(port, authorization, seconds) {
  const argv = ['-c', CLIENT_CPUS, 'wrk', '-t1', '-c50', `-d${seconds}s`, `http://127.0.0.1:${port}/mcp`];
  if (authorization) argv.push('-H', `Authorization: ${authorization}`);
  return new Promise((resolve, reject) =>
    execFile('taskset', argv, { encoding: 'utf8' }, (error, out) => {
      if (error) return reject(error);
      resolve({ rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]), total: Number(/(\d+) requests in/.exec(out)[1]) });
    }),
  );
}

const keys = await createKeys();
const authority = await startNode(join(here, 'authority.mjs'), { BENCH_JWKS: JSON.stringify(keys.jwks), BENCH_OPAQUE_TOKENS: '{}' }, CLIENT_CPUS);
const issuer = authority.message.issuer;
const tokens = { 'same-es256': `Bearer ${await mint(keys, 'ES256', issuer)}`, 'same-rs256': `Bearer ${await mint(keys, 'RS256', issuer)}`, malformed: 'Bearer not-a-jwt', 'no-token': null };

const servers = {};
for (const variant of ['plain', ...VARIANTS]) {
  const env = { BENCH_VARIANT: variant, BENCH_ISSUER: issuer, BENCH_RESOURCE: AUDIENCE, ...(TIME_MIDDLEWARE ? { BENCH_TIME_MIDDLEWARE: '1' } : {}) };
  const { child, message } = await startNode(join(here, 'server.mjs'), env, SERVER_CPU);
  if (message.skip) throw new Error(`${variant}: ${message.skip}`);
  servers[variant] = { child, pid: child.pid, port: message.port };
}

console.log(`Paired runs: each variant and plain loaded together on CPU ${SERVER_CPU}, ${ROUNDS} rounds of ${DURATION} s, wrk -t1 -c50 on CPU ${CLIENT_CPUS}`);
/** The server's summed time inside its middleware so far (see server.mjs). */
const middlewareTime = (child) => ask(child, 'timing', 'timing');

const timeColumn = TIME_MIDDLEWARE ? [' in middleware µs/req, median |', ' ---: |'] : ['', ''];
console.log(`| scenario | variant | req/s ÷ plain, median | rounds | CPU µs/req ÷ plain’s, median |${timeColumn[0]}`);
console.log(`| --- | --- | ---: | --- | ---: |${timeColumn[1]}`);
try {
  for (const scenario of SCENARIOS) {
    // Plain gets the same requests (the token too, which it ignores), as in run.mjs: only the middleware differs.
    for (const variant of Object.keys(servers)) await wrk(servers[variant].port, tokens[scenario], 1); // warm-up
    for (const variant of VARIANTS) {
      const ratios = [];
      const cpuRatios = [];
      const inMiddleware = [];
      for (let round = 0; round < ROUNDS; round++) {
        const pids = [servers.plain.pid, servers[variant].pid];
        const before = pids.map(cpuMicros);
        const timedBefore = TIME_MIDDLEWARE && (await middlewareTime(servers[variant].child));
        const [plain, other] = await Promise.all([wrk(servers.plain.port, tokens[scenario], DURATION), wrk(servers[variant].port, tokens[scenario], DURATION)]);
        const after = pids.map(cpuMicros);
        if (TIME_MIDDLEWARE) {
          const timedAfter = await middlewareTime(servers[variant].child);
          const count = timedAfter.count - timedBefore.count;
          if (count > 0) inMiddleware.push((timedAfter.ns - timedBefore.ns) / count / 1000);
        }
        ratios.push(other.rps / plain.rps);
        cpuRatios.push((after[1] - before[1]) / other.total / ((after[0] - before[0]) / plain.total));
      }
      const pct = (r) => `${(r * 100).toFixed(1)} %`;
      const timed = TIME_MIDDLEWARE ? ` ${inMiddleware.length ? median(inMiddleware).toFixed(1) : 'n/a (none synchronous)'} |` : '';
      console.log(`| ${scenario} | ${variant} | ${pct(median(ratios))} | ${ratios.map(pct).join(', ')} | ${median(cpuRatios).toFixed(2)} |${timed}`);
    }
  }
} finally {
  await Promise.all([...Object.values(servers), authority].map(({ child }) => stop(child)));
}
