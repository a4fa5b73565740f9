// The example CLI (examples/mcp-client runCli) headless against the example server: the first run
// signs in and stores tokens encrypted; a second run (a new client, same store) reuses them.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startExampleServer, type ExampleServer } from '@portcullis/example-express-mcp-server';
import { runCli } from '@portcullis/example-mcp-client';

let server: ExampleServer;
let dir: string;
beforeAll(async () => {
  server = await startExampleServer({ port: 0, devAuthorizationServer: { interactions: 'auto' } });
  dir = await mkdtemp(join(tmpdir(), 'portcullis-cli-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli([server.url, ...args, '--headless', '--callback-port', '65002', '--store', join(dir, 'store'), '--key-file', join(dir, 'key')], {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('example CLI', () => {
  it('C-38 signs in once, keeps tokens encrypted, and a second run reuses them with no sign-in', async () => {
    const dev = server.devAuthorizationServer!;
    const first = await run('echo', '{"message":"hello"}');
    expect(first).toMatchObject({ code: 0 });
    expect(first.out).toBe('tools: whoami, echo, admin_report, upstream_whoami\nhello');
    expect(first.err).toContain('Signed in; tokens saved (encrypted).');
    expect(first.err).toContain('is kept in'); // the key-file warning: no keychain is used with --key-file

    const authorizations = dev.requestCount('/auth');
    const registrations = dev.requestCount('/reg');
    const second = await run('whoami');
    expect(second.code).toBe(0);
    expect(second.err).toContain('Using the stored tokens (no sign-in needed).');
    expect(JSON.parse(second.out.split('\n').slice(1).join('\n'))).toMatchObject({ subject: 'demo-user', scopes: ['mcp:tools'] });
    expect(dev.requestCount('/auth')).toBe(authorizations);
    expect(dev.requestCount('/reg')).toBe(registrations);

    // Nothing in the store is readable: no JWT, no field names of the stored tokens.
    const files = (await readdir(join(dir, 'store'))).filter((f) => f.endsWith('.enc'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) {
      const raw = (await readFile(join(dir, 'store', file))).toString('latin1');
      expect(raw).not.toMatch(/eyJ|accessToken|refreshToken|client_id|clientId/);
    }
  });

  it('steps up for admin_report within one run, and rejects bad arguments with usage', async () => {
    const report = await run('admin_report');
    expect(report.code).toBe(0);
    expect(report.err).toContain('scope "mcp:tools mcp:admin offline_access"');
    expect(JSON.parse(report.out.split('\n').slice(1).join('\n'))).toMatchObject({ report: 'portcullis example server' });
    expect((await run('echo', 'not json')).code).toBe(2);
  });
});
