#!/usr/bin/env node
// Checks the built artefacts, not the sources (STYLE.md): packs every published package with pnpm
// (which rewrites `workspace:` ranges), unpacks the tarballs into a fresh project outside the
// workspace, and there (1) imports each entry point as ESM, (2) require()s it from CommonJS, as
// `engines` promises (require(esm), Node ≥ 20.19), and (3) type-checks a TypeScript NodeNext program
// against the packed declarations. Third-party dependencies are linked from the workspace's own
// install, so nothing is downloaded. Prints one line per check and `N passed, N failed`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'portcullis-pack-'));
const project = join(work, 'project');
const modules = join(project, 'node_modules');
mkdirSync(modules, { recursive: true });

const packages = readdirSync(join(root, 'packages')).map((dir) => {
  const path = join(root, 'packages', dir);
  return { dir, path, manifest: JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) };
});

const results = [];
const check = (name, fn) => {
  try {
    fn();
    results.push([true, name]);
    console.log(`PASS  ${name}`);
  } catch (error) {
    results.push([false, name]);
    console.log(`FAIL  ${name}\n      ${String(error.stdout || error.stderr || error.message).trim().split('\n').join('\n      ')}`);
  }
};

try {
  const linked = new Set();
  for (const { dir, path, manifest } of packages) {
    check(`${manifest.name}: pnpm pack`, () => {
      const tarball = execFileSync('pnpm', ['pack', '--pack-destination', work], { cwd: path, encoding: 'utf8' }).trim().split('\n').pop();
      const target = join(modules, ...manifest.name.split('/'));
      mkdirSync(target, { recursive: true });
      execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
      const packed = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8'));
      for (const [dep, range] of Object.entries(packed.dependencies ?? {})) {
        if (String(range).startsWith('workspace:')) throw new Error(`${dep} still has the range ${range}`);
        if (dep.startsWith('@portcullis/') || linked.has(dep)) continue;
        const from = join(path, 'node_modules', ...dep.split('/'));
        if (!existsSync(from)) throw new Error(`dependency ${dep} is not installed in packages/${dir}`);
        mkdirSync(dirname(join(modules, ...dep.split('/'))), { recursive: true });
        symlinkSync(realpathSync(from), join(modules, ...dep.split('/')), 'dir');
        linked.add(dep);
      }
      if (readdirSync(join(target, 'dist')).some((f) => f.endsWith('.tsbuildinfo'))) throw new Error('the tarball ships a .tsbuildinfo');
    });
  }

  const entries = packages.flatMap(({ manifest }) =>
    Object.keys(manifest.exports)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`)),
  );
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));

  for (const entry of entries) {
    const augmentOnly = entry.endsWith('/augment');
    check(`${entry}: import from ESM`, () => {
      const code = `const m = await import(${JSON.stringify(entry)}); if (!${augmentOnly} && Object.keys(m).length === 0) throw new Error('no exports');`;
      execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: project, stdio: 'pipe' });
    });
    check(`${entry}: require() from CommonJS`, () => {
      const code = `const m = require(${JSON.stringify(entry)}); if (!${augmentOnly} && Object.keys(m).length === 0) throw new Error('no exports');`;
      execFileSync(process.execPath, ['--no-warnings', '-e', code], { cwd: project, stdio: 'pipe' });
    });
  }

  check('TypeScript NodeNext program against the packed declarations', () => {
    symlinkSync(realpathSync(join(root, 'node_modules', '@types')), join(modules, '@types'), 'dir');
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['app.ts'] }),
    );
    writeFileSync(
      join(project, 'app.ts'),
      `import '@portcullis/bearer-auth/augment';
import { createServer } from 'node:http';
import { bearerAuth } from '@portcullis/bearer-auth';
import { defineProtectedResource, protectedResourceMetadata } from '@portcullis/protected-resource-metadata';
import { createJwtVerifier, type AuthInfo } from '@portcullis/token-verification';
import { staticToken, withOAuth } from '@portcullis/mcp-oauth-client';
import { createTokenExchanger } from '@portcullis/upstream-tokens';

const mcp = defineProtectedResource({ resource: 'https://mcp.example.com/mcp', authorizationServers: ['https://auth.example.com'] });
const metadata = protectedResourceMetadata(mcp);
const auth = bearerAuth({ verifier: createJwtVerifier({ issuer: 'https://auth.example.com', audience: mcp.resource }), resource: mcp });
createServer((req, res) => metadata(req, res, () => auth(req, res, () => {
  const info: AuthInfo | undefined = req.auth;
  res.end(info?.subject ?? '');
})));
// What the SDK transports' fetch option takes.
const fetchWithToken: (url: string | URL, init?: RequestInit) => Promise<Response> = withOAuth(fetch, staticToken('t'));
const exchanger = createTokenExchanger({ tokenEndpoint: 'https://auth.example.com/token', client: { method: 'client_secret_basic', clientId: 'c', clientSecret: 's' } });
void fetchWithToken;
void exchanger;
`,
    );
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, stdio: 'pipe', encoding: 'utf8' });
  });
} finally {
  if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
}

const failed = results.filter(([ok]) => !ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
