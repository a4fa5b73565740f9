#!/usr/bin/env node
// Runs a root script on a machine that has only Node 20 and npm: corepack fails on these
// machines and pnpm 11 needs Node 22, so pnpm 10 is installed into .cache/tools (no global
// install, no root) and put first on PATH, then the workspace is installed from the lockfile.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PNPM_VERSION = '10.34.8';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, '.cache', 'tools');
const bin = join(tools, 'node_modules', '.bin');
const script = process.argv[2];
if (!script) {
  console.error('usage: node scripts/bootstrap.mjs <root script> [args…]');
  process.exit(2);
}

function run(cmd, args, env = process.env) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!existsSync(join(bin, 'pnpm'))) {
  run('npm', ['install', '--no-save', '--no-package-lock', '--prefix', tools, `pnpm@${PNPM_VERSION}`]);
}
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
const frozen = existsSync(join(root, 'pnpm-lock.yaml')) && process.env.CI ? ['--frozen-lockfile'] : [];
run(join(bin, 'pnpm'), ['install', ...frozen], env);
run(join(bin, 'pnpm'), ['run', script, ...process.argv.slice(3)], env);
