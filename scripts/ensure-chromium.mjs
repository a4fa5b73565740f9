#!/usr/bin/env node
// The interop suite drives a real browser: Debian's Chromium at /usr/bin/chromium, driven by
// playwright-core (whose own browser download cannot work here). Installs it when it is missing, as
// on a clean CI machine; says how when it cannot (not root, no password-less sudo).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';
if (existsSync(CHROMIUM)) process.exit(0);

const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const asRoot = process.getuid?.() === 0;
const sudo = !asRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
if (!asRoot && !sudo) {
  console.error(`${CHROMIUM} is missing and cannot be installed without root: run "sudo apt-get install -y chromium", then the tests again.`);
  process.exit(1);
}
const run = (args) => {
  const [cmd, ...rest] = sudo ? ['sudo', '-n', ...args] : args;
  const result = spawnSync(cmd, rest, { stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
console.log(`Installing Debian's chromium for the browser interop test…`);
run(['apt-get', 'update', '-qq']);
run(['apt-get', 'install', '-y', '-qq', 'chromium']);
if (!existsSync(CHROMIUM)) {
  console.error(`apt-get finished but ${CHROMIUM} is still missing`);
  process.exit(1);
}
