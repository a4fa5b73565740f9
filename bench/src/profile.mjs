#!/usr/bin/env node
// A diagnostic beside `pnpm bench`: where one variant's server spends its CPU on a loaded server,
// from `perf record` (Linux perf, with V8's --perf-basic-prof for the names of JIT code). It loads
// the server with wrk (one token on every request, as the same-token cells), samples it, and prints
// the share of all samples spent in the middleware: in its own code and what that calls, up to the
// route handler (not counted), by JavaScript function and by leaf symbol. Needs perf, wrk, taskset, two CPUs.
//
//   node bench/src/profile.mjs [--variant=portcullis] [--alg=ES256] [--seconds=8]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKeys, mint, AUDIENCE } from './tokens.mjs';
import { startNode, stop } from './processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const variant = args.get('variant') ?? 'portcullis';
const alg = args.get('alg') ?? 'ES256';
const seconds = Number(args.get('seconds') ?? 8);
const cpus = os.cpus().length;
for (const tool of ['perf', 'wrk', 'taskset']) {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
  } catch {
    console.log(`profile.mjs needs ${tool}; skipped.`);
    process.exit(0);
  }
}
if (cpus < 2) {
  console.log('profile.mjs needs two CPUs (the server on one, wrk on the other); skipped.');
  process.exit(0);
}
const [serverCpu, clientCpus] = [String(cpus - 1), cpus === 2 ? '0' : `0-${cpus - 2}`];

const keys = await createKeys();
const authority = await startNode(join(here, 'authority.mjs'), { BENCH_JWKS: JSON.stringify(keys.jwks), BENCH_OPAQUE_TOKENS: '{}' }, clientCpus);
const token = await mint(keys, alg, authority.message.issuer);
const env = { BENCH_VARIANT: variant, BENCH_ISSUER: authority.message.issuer, BENCH_RESOURCE: AUDIENCE, NODE_OPTIONS: '--perf-basic-prof' };
const dir = mkdtempSync(join(os.tmpdir(), 'portcullis-perf-'));
process.chdir(dir); // the server's V8 log (--perf-basic-prof writes one to its working directory) goes there
const { child, message } = await startNode(join(here, 'server.mjs'), env, serverCpu);
const data = join(dir, 'perf.data');
const wrk = (duration) =>
  execFileSync('taskset', ['-c', clientCpus, 'wrk', '-t1', '-c50', `-d${duration}s`, '-H', `Authorization: Bearer ${token}`, `http://127.0.0.1:${message.port}/mcp`], {
    encoding: 'utf8',
  });
let script;
try {
  wrk(3); // warm-up: the JIT settles before sampling
  const perf = spawn('perf', ['record', '-F', '4999', '-g', '-p', String(child.pid), '-o', data, '--', 'sleep', String(seconds)], { stdio: 'ignore' });
  const load = wrk(seconds);
  await new Promise((resolve) => perf.on('exit', resolve));
  console.log(`${variant}, the same ${alg} token: ${/Requests\/sec:\s+([\d.]+)/.exec(load)[1]} req/s under perf (sampling slows the server)`);
  script = execFileSync('perf', ['script', '-i', data], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
} finally {
  await stop(child);
  await stop(authority.child);
}

// Each sample: a header line, then its stack from the leaf outwards.
const frame = (line) => line.trim().replace(/^[0-9a-f]+ /, '').replace(/\+0x[0-9a-f]+/, '').replace(/\s*\(.*\)$/, '');
// The middleware's own code: our packages, a peer's package, or a reference variant in variants.mjs.
const OWN = variant.startsWith('portcullis') ? /\/packages\/|variants\.mjs:/ : /(express-oauth2-jwt-bearer|@modelcontextprotocol|mcp-auth|jose)@|variants\.mjs:/;
const isMiddleware = (f) => f.startsWith('JS:') && OWN.test(f);
let total = 0;
const byFunction = new Map();
const byLeaf = new Map();
for (const sample of script.split('\n\n')) {
  const stack = sample.split('\n').slice(1).map(frame).filter(Boolean);
  if (stack.length === 0) continue;
  total++;
  // The outermost frame of the middleware's code, and nothing of the handler (server.mjs) above it.
  const outer = stack.findLastIndex(isMiddleware);
  if (outer === -1 || stack.slice(0, outer).some((f) => /server\.mjs:\d+/.test(f))) continue;
  const fn = stack.slice(0, outer + 1).find((f) => f.startsWith('JS:'));
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + 1);
  byLeaf.set(stack[0], (byLeaf.get(stack[0]) ?? 0) + 1);
}
const pct = (n) => `${((100 * n) / total).toFixed(2)} %`;
const inMiddleware = [...byFunction.values()].reduce((a, b) => a + b, 0);
console.log(`${total} samples; in the middleware's own code: ${pct(inMiddleware)}`);
for (const [title, counts] of [['by innermost JavaScript function', byFunction], ['by leaf symbol', byLeaf]]) {
  console.log(`\n${title}:`);
  for (const [name, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(n).padStart(8)}  ${name.slice(0, 140)}`);
}
