#!/usr/bin/env node
// A diagnostic beside `pnpm bench`: machine instructions per request, counted by valgrind's
// callgrind in the server process. Instructions do not depend on what else the machine is doing,
// so two runs of the same build agree within about 2 %, where req/s and CPU time
// move by 20–30 % on a shared machine: the instrument for judging a change of a few per cent.
// They are not time: crypto runs more instructions per cycle than V8 and Express do, and valgrind
// presents a CPU without SHA extensions, so SHA-256 counts several times what it costs natively.
//
// Each server runs under callgrind with counting off; a keep-alive client (10 connections) sends
// the warm-up requests (the JIT settles), the server collects all garbage and gets more requests
// (so the next collections fall at the same points every run), counting is switched on for the
// measured requests only, then the counts are dumped. Needs valgrind (Debian: apt-get install
// valgrind); prints only. `--keep` keeps the callgrind files for callgrind_annotate.
//
//   node bench/src/instructions.mjs [--cells=plain:same,portcullis:fresh,...] [--warmup=6000] [--requests=3000] [--keep]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUDIENCE, createKeys, mint, mintManyFast } from './tokens.mjs';
import { startNode, stop } from './processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const WARMUP = Number(args.get('warmup') ?? 6000);
const REQUESTS = Number(args.get('requests') ?? 3000);
const SETTLE = 3000;
const CELLS = (
  args.get('cells') ??
  'plain:same,empty-middleware:same,portcullis:same,plain:fresh,signature-only:fresh,portcullis:fresh,express-oauth2-jwt-bearer:fresh,mcp-sdk:fresh,mcp-auth:fresh'
)
  .split(',')
  .map((cell) => cell.split(':'));

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.log('instructions.mjs needs valgrind (Debian: apt-get install valgrind); skipped.');
  process.exit(0);
}

const keys = await createKeys();
const authority = await startNode(join(here, 'authority.mjs'), { BENCH_JWKS: JSON.stringify(keys.jwks), BENCH_OPAQUE_TOKENS: '{}' });
const issuer = authority.message.issuer;
const same = await mint(keys, 'ES256', issuer);
const sameRs256 = await mint(keys, 'RS256', issuer);
const fresh = mintManyFast(keys, issuer, WARMUP + SETTLE + REQUESTS, 'fresh');
const SCENARIOS = {
  same: { label: 'same valid token, ES256', next: () => `Bearer ${same}` },
  'same-rs256': { label: 'same valid token, RS256', next: () => `Bearer ${sameRs256}` },
  // Every request a token the server has never seen: a new cursor per cell, never rewound.
  fresh: { label: 'never-seen valid ES256 tokens', next: (cursor) => `Bearer ${fresh[cursor.i++]}` },
};

/** Instructions per measured request of one variant in one scenario. */
async function count(variant, scenario) {
  const dir = mkdtempSync(join(os.tmpdir(), 'portcullis-callgrind-'));
  const server = spawn(
    'valgrind',
    // JIT code needs self-modifying-code checks; one GC thread keeps the counts repeatable.
    ['--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${dir}/callgrind.%p`, process.execPath, '--single-threaded-gc', '--expose-gc', join(here, 'server.mjs')],
    { env: { ...process.env, BENCH_VARIANT: variant, BENCH_ISSUER: issuer, BENCH_RESOURCE: AUDIENCE }, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] },
  );
  try {
    const message = await new Promise((resolve, reject) => {
      server.once('message', resolve);
      server.once('exit', (code) => reject(new Error(`${variant} exited with ${code} before it was ready`)));
    });
    if (message.skip) throw new Error(`${variant}: ${message.skip}`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    const cursor = { i: 0 };
    const statuses = new Map();
    const one = () =>
      new Promise((resolve, reject) => {
        const headers = { authorization: SCENARIOS[scenario].next(cursor) }; // plain too: the same bytes to parse
        http
          .get({ host: '127.0.0.1', port: message.port, path: '/mcp', agent, headers }, (res) => {
            res.resume();
            res.on('end', () => resolve(statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)));
          })
          .on('error', reject);
      });
    const send = async (n) => {
      let sent = 0;
      await Promise.all(Array.from({ length: 10 }, async () => { while (sent++ < n) await one(); }));
    };
    await send(WARMUP);
    // A full collection, then more warm-up (the young generation grows back to its working size):
    // where the next collections fall is then the same from run to run.
    await new Promise((resolve) => {
      server.once('message', resolve);
      server.send('gc');
    });
    await send(SETTLE);
    execFileSync('callgrind_control', ['--instr=on', String(server.pid)], { stdio: 'ignore' });
    statuses.clear();
    await send(REQUESTS);
    execFileSync('callgrind_control', ['--instr=off', String(server.pid)], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--dump', String(server.pid)], { stdio: 'ignore' });
    agent.destroy();
    let total = 0;
    for (const file of readdirSync(dir)) total += Number(/^totals: (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'))?.[1] ?? 0);
    const unexpected = [...statuses].filter(([status]) => status !== 200);
    return { perRequest: total / REQUESTS, unexpected };
  } finally {
    server.kill('SIGKILL');
    if (args.has('keep')) console.log(`(callgrind files of ${variant} / ${scenario}: ${dir})`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`Instructions per request (callgrind), ${REQUESTS} measured requests after ${WARMUP} of warm-up, a full GC and ${SETTLE} more, 10 keep-alive connections`);
console.log('| scenario | variant | instructions/request | × plain (instructions of plain ÷ variant’s) |');
console.log('| --- | --- | ---: | ---: |');
const plainOf = {};
const counted = {}; // counted[`${variant}:${scenario}`] = instructions per request
try {
  for (const [variant, scenario] of CELLS) {
    const { perRequest, unexpected } = await count(variant, scenario);
    counted[`${variant}:${scenario}`] = perRequest;
    if (variant === 'plain') plainOf[scenario] = perRequest;
    const ratio = plainOf[scenario] ? `${((plainOf[scenario] / perRequest) * 100).toFixed(1)} %` : '';
    const flag = unexpected.length ? ` ⚠ ${unexpected.map(([s, n]) => `${n}× ${s}`).join(', ')}` : '';
    console.log(`| ${SCENARIOS[scenario].label} | ${variant} | ${Math.round(perRequest).toLocaleString('en-US')}${flag} | ${ratio} |`);
  }
} finally {
  await stop(authority.child);
}

// What the acceptance checks of issue 6 would read in instructions (the peers have no cache, so
// every request is a miss for them in any scenario).
const k = (n) => `${Math.round(n / 1000).toLocaleString('en-US')} k`;
const { 'portcullis:fresh': miss, 'signature-only:fresh': floor, 'plain:fresh': plain } = counted;
if (miss && floor && plain) {
  console.log(`\nNever-seen tokens: portcullis ${k(miss)}, ${k(miss - floor)} over signature-only (whose ${k(floor - plain)} over plain are the signature check).`);
}
const peers = ['express-oauth2-jwt-bearer', 'mcp-sdk', 'mcp-auth'].filter((p) => counted[`${p}:fresh`]);
if (miss && peers.length > 0) {
  const best = peers.reduce((a, b) => (counted[`${a}:fresh`] < counted[`${b}:fresh`] ? a : b));
  console.log(`Best peer on never-seen tokens: ${best}, ${k(counted[`${best}:fresh`])}: ${(counted[`${best}:fresh`] / miss).toFixed(2)}× portcullis's instructions.`);
}
