#!/usr/bin/env node
// `pnpm bench`: @portcullis/bearer-auth against the plain Express route and the Node peers.
//
// Processes: this orchestrator (token minting, the autocannon load generator, the report), the
// authorization-server stub (authority.mjs: metadata, JWKS, introspection with a 20 ms delay) and
// one Express 5 server per variant (server.mjs), started one at a time. When taskset exists and
// the machine has two or more CPUs, the variant server is pinned to the last CPU and the
// generator and the stub to the others, so the server's CPU time is its own.
//
// Options (flags or environment):
//   --quick            BENCH_QUICK=1        2 rounds of 1 s per cell, smaller flood (development)
//   --warmup=S         BENCH_WARMUP=S       warm-up seconds before a cell's first round (default 1)
//   --duration=S       BENCH_DURATION=S     measured seconds per cell, split over the rounds in whole seconds (default 4)
//   --rounds=N         BENCH_ROUNDS=N       interleaved rounds per scenario, the cell is their median (default 4)
//   --distinct=N       BENCH_DISTINCT=N     pool of distinct valid tokens, cycled (default 10000)
//   --fresh=N          BENCH_FRESH=N        pool of never-repeated tokens for the cache-miss cells (default 60000)
//   --variants=a,b     BENCH_VARIANTS       variants to run (plain is always run: it is the ceiling)
//   --flood=N          BENCH_FLOOD=N        invalid tokens in the flood (default 100000)
//   --no-write         BENCH_NO_WRITE=1     do not rewrite the table in bench/README.md
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { AUDIENCE, CLIENT_ID, SCOPE, badSignature, createKeys, invalidTokenFactory, mint, mintManyFast } from './tokens.mjs';
import { cpuMicros, memory } from './proc.mjs';
import { ask, startNode, stop } from './processes.mjs';
import { median } from './stats.mjs';
import { renderReport, writeReadme, writeSummary } from './report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const benchDir = join(here, '..');
const startedAt = Date.now();

// ---------------------------------------------------------------------------------------------
// Options
const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const opt = (flag, env, fallback) => args.get(flag) ?? process.env[env] ?? fallback;
const quick = opt('quick', 'BENCH_QUICK', 'false') !== 'false' && opt('quick', 'BENCH_QUICK', '0') !== '0';
// autocannon runs for whole seconds (its timer ticks once a second: 1.2 s runs for 2 s), so the
// warm-up and each round are whole seconds.
const WARMUP = Math.round(Number(opt('warmup', 'BENCH_WARMUP', 1)));
const DURATION = Number(opt('duration', 'BENCH_DURATION', quick ? 2 : 4));
// A shared 2-core machine drifts by ±20 % within minutes: each scenario is measured in rounds, the
// variants in a rotated order each round, and every figure of a cell is the median of its rounds.
const ROUNDS = Math.max(1, Number(opt('rounds', 'BENCH_ROUNDS', quick ? 2 : 4)));
// Rounds of the paired measurements (one second each; the servers are warm by then).
const PAIRED_ROUNDS = quick ? 2 : 5;
const ROUND_SECONDS = Math.max(1, Math.round(DURATION / ROUNDS));
const INTROSPECTION_SECONDS = quick ? 2 : 3;
const FLOOD = Number(opt('flood', 'BENCH_FLOOD', quick ? 20_000 : 100_000));
const DISTINCT = Number(opt('distinct', 'BENCH_DISTINCT', 10_000));
const FRESH = Number(opt('fresh', 'BENCH_FRESH', quick ? 20_000 : 60_000));
const PROBE = 1_000;
const CONNECTIONS = 50;
const NO_WRITE = opt('no-write', 'BENCH_NO_WRITE', 'false') !== 'false' && opt('no-write', 'BENCH_NO_WRITE', '0') !== '0';
const RSS_BOUND = 32 * 1024 * 1024;

// References, not contenders: measured only in the cells they explain (see variants.mjs).
const REFERENCES = { 'empty-middleware': ['same-es256', 'same-rs256'], 'signature-only': ['fresh-es256'] };
// The ratio checks of issue 6, measured once more with the variant and plain loaded together.
const PAIRED = {
  'same-es256': ['portcullis', 'empty-middleware'],
  'same-rs256': ['portcullis', 'empty-middleware'],
  malformed: ['portcullis'],
  'no-token': ['portcullis'],
};
const JWT_VARIANTS = ['plain', 'portcullis', 'express-oauth2-jwt-bearer', 'mcp-sdk', 'mcp-auth', ...Object.keys(REFERENCES)];
const INTROSPECTION_VARIANTS = ['portcullis-introspection', 'mcp-sdk-introspection'];
const PEERS = ['express-oauth2-jwt-bearer', 'mcp-sdk', 'mcp-auth'];
const selected = args.get('variants') ?? process.env.BENCH_VARIANTS;
const wanted = (v) => v === 'plain' || !selected || selected.split(',').some((s) => v === s || v.startsWith(`${s}-`));

const log = (...a) => console.log(...a);
const pct = (r) => `${(r * 100).toFixed(1)} %`;
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—');

// ---------------------------------------------------------------------------------------------
// CPU placement
const cpuCount = os.cpus().length;
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const pin = hasTaskset && cpuCount >= 2;
const SERVER_CPUS = pin ? `${cpuCount - 1}` : undefined;
const CLIENT_CPUS = pin ? (cpuCount === 2 ? '0' : `0-${cpuCount - 2}`) : undefined;
if (pin) execFileSync('taskset', ['-a', '-p', '-c', CLIENT_CPUS, String(process.pid)], { stdio: 'ignore' });

// ---------------------------------------------------------------------------------------------
// Load generation
/** One autocannon run. `auth` is a header value, a function returning one per request, or null. */
function load(port, auth, { duration, amount, connections = CONNECTIONS } = {}) {
  const base = { url: `http://127.0.0.1:${port}/mcp`, connections, pipelining: 1, timeout: 10 };
  if (amount) base.amount = amount;
  else base.duration = duration;
  if (typeof auth === 'function') {
    base.requests = [{ method: 'GET', path: '/mcp', setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: auth() } }) }];
  } else if (auth) {
    base.headers = { authorization: auth };
  }
  return new Promise((resolve, reject) => {
    const instance = autocannon(base, (err, result) => (err ? reject(err) : resolve(result)));
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false, outputStream: devNull });
  });
}
const devNull = { write() {}, isTTY: false, on() {}, once() {}, emit() {}, end() {}, removeListener() {} };

/** Warm-up, then a measured run with the server's CPU time and RSS read from /proc. */
async function measure(pid, port, auth, expect, { warmup = WARMUP, warmupRequests = 0, duration = DURATION, amount } = {}) {
  if (warmupRequests > 0) await load(port, auth, { amount: warmupRequests });
  else if (warmup > 0) await load(port, auth, { duration: warmup });
  const cpu0 = cpuMicros(pid);
  const gen0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await load(port, auth, amount ? { amount } : { duration });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = cpuMicros(pid);
  const gen = process.cpuUsage(gen0);
  const mem = memory(pid);
  const total = r.requests.total;
  const ok = expect === 200 ? r['2xx'] : (r.statusCodeStats?.[String(expect)]?.count ?? 0);
  return {
    rps: total / seconds,
    p99: r.latency.p99,
    cpuPerReq: total ? (cpu1 - cpu0) / total : NaN,
    rss: mem.rss,
    hwm: mem.hwm,
    requests: total,
    expected: expect,
    unexpected: total - ok + r.errors + r.timeouts,
    generatorLoad: (gen.user + gen.system) / 1e6 / seconds,
  };
}

/** One cell from its rounds: the median of each figure; counts are summed, memory is the largest seen. */
function medianCell(cells) {
  const middle = (key) => median(cells.map((c) => c[key]));
  const sum = (key) => cells.reduce((total, c) => total + c[key], 0);
  return {
    rps: middle('rps'),
    p99: middle('p99'),
    cpuPerReq: middle('cpuPerReq'),
    rss: Math.max(...cells.map((c) => c.rss)),
    hwm: Math.max(...cells.map((c) => c.hwm)),
    requests: sum('requests'),
    expected: cells[0].expected,
    unexpected: sum('unexpected'),
    generatorLoad: middle('generatorLoad'),
    rounds: cells.length,
  };
}

/** `n` requests at once, each on its own connection, with the same token; resolves with the statuses. */
function concurrent(port, auth, n) {
  const agent = new http.Agent({ keepAlive: false, maxSockets: n });
  return Promise.all(
    Array.from({ length: n }, () =>
      new Promise((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/mcp', agent, headers: { authorization: auth } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        });
        req.on('error', () => resolve(0));
      }),
    ),
  ).finally(() => agent.destroy());
}

async function authority(path, method = 'GET') {
  const res = await fetch(`${issuer}${path}`, { method });
  return res.json();
}

// ---------------------------------------------------------------------------------------------
// Setup
log(`Portcullis bench: ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${ROUNDS} interleaved round(s) of ${ROUND_SECONDS} s per cell${quick ? ' (quick)' : ''}`);
log(pin ? `Pinned: variant servers on CPU ${SERVER_CPUS}, load generator and AS stub on CPU ${CLIENT_CPUS}` : 'Not pinned (taskset missing or a single CPU): CPU figures include contention');

const keys = await createKeys();
const opaqueTokens = { 'portcullis-introspection': randomBytes(24).toString('base64url'), 'mcp-sdk-introspection': randomBytes(24).toString('base64url') };
const opaqueClaims = Object.fromEntries(Object.values(opaqueTokens).map((t) => [t, { client_id: CLIENT_ID, scope: SCOPE, sub: 'user-1', aud: AUDIENCE }]));
const auth0 = await startNode(join(here, 'authority.mjs'), { BENCH_JWKS: JSON.stringify(keys.jwks), BENCH_OPAQUE_TOKENS: JSON.stringify(opaqueClaims) }, CLIENT_CPUS);
const authorityProcess = auth0.child;
const issuer = auth0.message.issuer;

const tMint = Date.now();
const esToken = await mint(keys, 'ES256', issuer);
const rsToken = await mint(keys, 'RS256', issuer);
const otherEs = await mint(keys, 'ES256', issuer, { sub: 'someone-else' });
const distinct = mintManyFast(keys, issuer, DISTINCT, 'distinct');
const fresh = mintManyFast(keys, issuer, FRESH, 'fresh');
const probe = mintManyFast(keys, issuer, PROBE, 'probe');
log(`Minted ${fmt(DISTINCT + FRESH + PROBE + 3)} tokens in ${((Date.now() - tMint) / 1000).toFixed(1)} s; issuer ${issuer}`);

// Before any server starts, on the CPU the servers' costs are measured on (see floor.mjs).
const floorInput = { jwks: keys.jwks, tokens: { ES256: esToken, RS256: rsToken } };
const floorRun = await startNode(join(here, 'floor.mjs'), { BENCH_FLOOR_INPUT: JSON.stringify(floorInput) }, SERVER_CPUS);
const { floor } = floorRun.message;
await stop(floorRun.child);
log(`Crypto floor (node:crypto, synchronous): ES256 ${fmt(floor.ES256, 1)} µs, RS256 ${fmt(floor.RS256, 1)} µs; jose.jwtVerify: ES256 ${fmt(floor.joseES256, 1)} µs, RS256 ${fmt(floor.joseRS256, 1)} µs`);

/** One cursor shared by all connections: each token comes round once per pass over the list. */
const cycle = (list, counter = { wraps: 0 }) => {
  let i = 0;
  const next = () => {
    if (i === list.length) {
      i = 0;
      counter.wraps++;
    }
    return `Bearer ${list[i++]}`;
  };
  next.counter = counter;
  return next;
};
const scenarios = [
  { id: 'same-es256', label: 'same valid token, ES256', auth: () => `Bearer ${esToken}`, expect: 200 },
  { id: 'same-rs256', label: 'same valid token, RS256', auth: () => `Bearer ${rsToken}`, expect: 200 },
  { id: 'distinct-es256', label: `${fmt(DISTINCT)} distinct valid ES256 tokens, cycled`, auth: () => cycle(distinct), expect: 200 },
  {
    id: 'fresh-es256',
    label: 'never-seen valid ES256 tokens (cache misses)',
    // Each server gets its own cursor: a token is never seen by the process it is sent to.
    auth: () => cycle(fresh),
    expect: 200,
    // In the same rounds as the cycled pool, whose peer cells it is compared with (the peers have
    // no cache, so every cycled token is a miss for them) and whose plain cell it shares.
    measuredWith: 'distinct-es256',
    only: ['portcullis'],
  },
  { id: 'bad-signature', label: 'bad signature (ES256)', auth: () => `Bearer ${badSignature(esToken, otherEs)}`, expect: 401 },
  { id: 'malformed', label: 'malformed token', auth: () => 'Bearer not-a-jwt', expect: 401 },
  { id: 'no-token', label: 'no token', auth: () => null, expect: 401 },
];

// ---------------------------------------------------------------------------------------------
// Runs
const results = {}; // results[variant][scenario] = cell
const paired = {}; // paired[variant][scenario] = { ratio, ratios, busy, unexpected }
const skipped = {}; // skipped[variant] = reason
let flood = null;
const introspection = {};

async function withServer(variant, fn) {
  const { child, message } = await startNode(join(here, 'server.mjs'), { BENCH_VARIANT: variant, BENCH_ISSUER: issuer, BENCH_RESOURCE: AUDIENCE }, SERVER_CPUS);
  if (message.skip) {
    skipped[variant] = message.skip.split('\n')[0];
    log(`\n!! ${variant}: SKIPPED — ${message.skip}`);
    await stop(child);
    return;
  }
  try {
    await fn(child.pid, message.port);
  } finally {
    await stop(child);
  }
}

// All JWT variants run side by side (idle ones cost nothing), and each scenario is measured on
// every variant back to back, so a change in the machine's load affects the ceiling and the
// variants alike.
const servers = {};
for (const variant of JWT_VARIANTS.filter(wanted)) {
  const { child, message } = await startNode(join(here, 'server.mjs'), { BENCH_VARIANT: variant, BENCH_ISSUER: issuer, BENCH_RESOURCE: AUDIENCE }, SERVER_CPUS);
  if (message.skip) {
    skipped[variant] = message.skip.split('\n')[0];
    log(`!! ${variant}: SKIPPED — ${message.skip}`);
    await stop(child);
    continue;
  }
  servers[variant] = { child, pid: child.pid, port: message.port };
  results[variant] = {};
  await load(message.port, `Bearer ${esToken}`, { duration: WARMUP }); // JIT warm-up of the process
}
try {
  for (const step of scenarios.filter((s) => !s.measuredWith)) {
    // The scenario and any measured in its rounds: one rotation over all their cells.
    const together = [step, ...scenarios.filter((s) => s.measuredWith === step.id)];
    log(`\n== ${together.map((s) => s.label).join(' + ')}  [${fmt((Date.now() - startedAt) / 1000)} s]`);
    const cells = together.flatMap((s) =>
      Object.keys(servers)
        .filter((variant) => (REFERENCES[variant] ? REFERENCES[variant].includes(s.id) : !s.only || s.only.includes(variant)))
        .map((variant) => ({ variant, s, auth: s.auth(variant), expect: variant === 'plain' || REFERENCES[variant] ? 200 : s.expect, rounds: [] })),
    );
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < cells.length; i++) {
        const cell = cells[(i + round) % cells.length];
        const { pid, port } = servers[cell.variant];
        // A warm-up before a cell's first round only: its process stays warm between rounds, and
        // every autocannon run costs a second of set-up, which would push the run past 5 minutes.
        const warmup = round === 0 ? WARMUP : 0;
        // The cycled pool is about a cache that holds the pool: bearer-auth files a result on its
        // token's second verification, so its warm-up is two whole passes (the peers have no cache,
        // so their first pass is like any other).
        const warmupRequests = round === 0 && cell.s.id === 'distinct-es256' && cell.variant === 'portcullis' ? 2 * DISTINCT : 0;
        cell.rounds.push(await measure(pid, port, cell.auth, cell.expect, { warmup, warmupRequests, duration: ROUND_SECONDS }));
      }
    }
    for (const { variant, s, auth, expect, rounds } of cells) {
      const cell = medianCell(rounds);
      if (typeof auth === 'function' && auth.counter.wraps && s.id === 'fresh-es256') cell.note = `pool of ${fmt(FRESH)} wrapped ${auth.counter.wraps}×`;
      results[variant][s.id] = cell;
      log(
        `  ${`${variant}${s === step ? '' : ` (${s.id})`}`.padEnd(30)} ${fmt(cell.rps).padStart(7)} req/s  p99 ${fmt(cell.p99, 1).padStart(6)} ms  ${fmt(cell.cpuPerReq, 1).padStart(6)} µs/req  RSS ${fmt(cell.rss / 2 ** 20, 1)} MiB` +
          `  generator ${fmt(cell.generatorLoad * 100)} %${ROUNDS > 1 ? `  (rounds: ${rounds.map((c) => fmt(c.rps)).join(' / ')} req/s)` : ''}` +
          `${cell.unexpected ? `  !! ${cell.unexpected} responses not ${expect}` : ''}${cell.note ? `  !! ${cell.note}` : ''}`,
      );
    }
    // A scenario measured in another's rounds shares its plain cell (plain reads no token).
    for (const s of together) if (results.plain && !results.plain[s.id]) results.plain[s.id] = results.plain[step.id];
  }
  for (const s of scenarios.filter((scenario) => PAIRED[scenario.id])) {
    for (const variant of PAIRED[s.id].filter((v) => servers[v] && servers.plain)) {
      log(`\n== paired: ${variant} and plain loaded together, ${s.label}  [${fmt((Date.now() - startedAt) / 1000)} s]`);
      (paired[variant] ??= {})[s.id] = await measurePaired(servers.plain, servers[variant], s.auth(variant), variant === 'portcullis' ? s.expect : 200);
      const p = paired[variant][s.id];
      log(`  ${variant}: ${pct(p.ratio)} of plain (rounds: ${p.ratios.map(pct).join(' / ')}); CPU busy ${pct(p.busy)}${p.unexpected ? `  !! ${p.unexpected} unexpected responses` : ''}`);
    }
  }
  if (servers.portcullis) {
    log(`\n== flood (bearer-auth)  [${fmt((Date.now() - startedAt) / 1000)} s]`);
    flood = await runFlood(servers.portcullis.child, servers.portcullis.port);
  }
} finally {
  await Promise.all(Object.values(servers).map(({ child }) => stop(child)));
}

/**
 * The ceiling and a variant loaded at the same time, each by its own autocannon, both servers on the
 * one pinned CPU: the scheduler shares it between them, so a slow or busy spell of the machine hits
 * both at once and their req/s ratio is the ratio of their costs per request. One-second rounds;
 * the cell is the median ratio. `busy` is the servers' CPU time over the wall time: below 90 % the
 * generator, not the CPU, was the limit and the ratio says little (the report ignores a pair under 90 %).
 */
async function measurePaired(plain, other, auth, expect) {
  const ratios = [];
  const busy = [];
  let unexpected = 0;
  // Both loaded for a second first, not counted: a reference server idle since its own cells (minutes
  // earlier) came back at 38–41 % of plain in its first round and 90–99 % by its last, as V8
  // re-optimised its code; the other server had been busy all along.
  await Promise.all([load(plain.port, auth, { duration: 1 }), load(other.port, auth, { duration: 1 })]);
  for (let round = 0; round < PAIRED_ROUNDS; round++) {
    const before = [cpuMicros(plain.pid), cpuMicros(other.pid)];
    const t0 = process.hrtime.bigint();
    const [p, o] = await Promise.all([load(plain.port, auth, { duration: 1 }), load(other.port, auth, { duration: 1 })]);
    const wall = Number(process.hrtime.bigint() - t0) / 1e3;
    const cpu = cpuMicros(plain.pid) - before[0] + cpuMicros(other.pid) - before[1];
    ratios.push(o.requests.total / p.requests.total);
    busy.push(cpu / wall / (SERVER_CPUS ? 1 : cpuCount));
    const ok = expect === 200 ? o['2xx'] : (o.statusCodeStats?.[String(expect)]?.count ?? 0);
    unexpected += o.requests.total - ok + o.errors + o.timeouts + (p.requests.total - p['2xx']);
  }
  return { ratio: median(ratios), ratios, busy: median(busy), unexpected };
}

/** Valid tokens cached, then FLOOD distinct invalid tokens, then the same valid tokens again. */
async function runFlood(child, port) {
  const pid = child.pid;
  log(`  flood: priming ${PROBE} valid tokens, then ${fmt(FLOOD)} distinct invalid tokens`);
  await load(port, cycle(probe), { amount: PROBE * 2 });
  const before = await measure(pid, port, cycle(probe), 200, { warmup: 0, duration: 2 });
  // Asked of the server itself, before the flood and after it: how many probe tokens its cache answers.
  const cachedBefore = await ask(child, { cached: probe }, 'cached');
  const flooded = await measure(pid, port, (() => { const next = invalidTokenFactory(esToken); return () => `Bearer ${next()}`; })(), 401, { warmup: 0, amount: FLOOD });
  const cachedAfter = await ask(child, { cached: probe }, 'cached');
  const after = await measure(pid, port, cycle(probe), 200, { warmup: 0, duration: 2 });
  const result = { before, flooded, after, rssBefore: before.rss, rssAfter: flooded.rss, hwmAfter: flooded.hwm, cachedBefore, cachedAfter };
  log(
    `  flood: ${cachedBefore} → ${cachedAfter} of ${PROBE} valid tokens in the cache; ` +
      `RSS ${fmt(before.rss / 2 ** 20, 1)} → ${fmt(flooded.rss / 2 ** 20, 1)} MiB (peak ${fmt(flooded.hwm / 2 ** 20, 1)}), ${fmt(flooded.rps)} invalid req/s, ` +
      `${fmt(flooded.cpuPerReq, 1)} µs/req; cached valid tokens: ${fmt(before.cpuPerReq, 1)} µs/req before, ${fmt(after.cpuPerReq, 1)} µs/req after` +
      `${before.unexpected + flooded.unexpected + after.unexpected ? `  !! ${before.unexpected + flooded.unexpected + after.unexpected} unexpected responses` : ''}`,
  );
  return result;
}

for (const variant of INTROSPECTION_VARIANTS.filter(wanted)) {
  log(`\n== ${variant}  [${fmt((Date.now() - startedAt) / 1000)} s]`);
  await withServer(variant, async (pid, port) => {
    const token = `Bearer ${opaqueTokens[variant]}`;
    await authority('/reset', 'POST');
    const statuses = await concurrent(port, token, 100);
    const firstUse = (await authority('/stats')).introspection;
    const repeated = await measure(pid, port, token, 200, { warmup: 0, duration: INTROSPECTION_SECONDS });
    const further = (await authority('/stats')).introspection - firstUse;
    introspection[variant] = { firstUse, further, firstUseOk: statuses.filter((s) => s === 200).length, repeated };
    log(
      `  100 concurrent first uses: ${introspection[variant].firstUseOk}/100 ok, ${firstUse} AS call(s); repeated use for ${INTROSPECTION_SECONDS} s: ` +
        `${fmt(repeated.requests)} requests, ${further} further AS call(s), ${fmt(repeated.rps)} req/s, p99 ${fmt(repeated.p99, 1)} ms, ${fmt(repeated.cpuPerReq, 1)} µs/req`,
    );
  });
}

await stop(authorityProcess);

// ---------------------------------------------------------------------------------------------
// Report
const machine = {
  cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
  cpus: cpuCount,
  memory: `${fmt(os.totalmem() / 2 ** 30, 1)} GiB`,
  kernel: `${os.type()} ${os.release()}`,
  node: process.version,
  load: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  pinned: pin ? `servers on CPU ${SERVER_CPUS}, generator and AS stub on CPU ${CLIENT_CPUS}` : 'no',
};
const report = renderReport({
  results,
  paired,
  skipped,
  flood,
  introspection,
  floor,
  scenarios,
  machine,
  references: Object.keys(REFERENCES),
  settings: { warmup: WARMUP, duration: ROUND_SECONDS * ROUNDS, rounds: ROUNDS, pairedRounds: PAIRED_ROUNDS, connections: CONNECTIONS, distinct: DISTINCT, flood: FLOOD, probe: PROBE, quick, rssBound: RSS_BOUND },
  peers: PEERS,
  elapsed: (Date.now() - startedAt) / 1000,
});
log(`\n${report.checksText}`);
mkdirSync(join(benchDir, 'results'), { recursive: true });
writeFileSync(join(benchDir, 'results', 'latest.json'), `${JSON.stringify({ machine, floor, results, paired, skipped, flood, introspection }, null, 2)}\n`);
if (!NO_WRITE) {
  writeReadme(join(benchDir, 'README.md'), report.markdown);
  const summarised = writeSummary(join(benchDir, '..', 'README.md'), report.summary);
  log(`Wrote the table into bench/README.md${summarised ? ', the summary into README.md,' : ''} and bench/results/latest.json`);
}
log(`Done in ${fmt((Date.now() - startedAt) / 1000)} s`);
process.exit(0);
