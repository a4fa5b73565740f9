// Interop 7: a real browser. Headless Chromium (Debian's `chromium`, installed by the test setup)
// driven by playwright-core opens the URL the loopback helper prints, signs in and consents on the
// development authorization server's pages; the CLI receives the callback, finishes and calls a tool.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startExampleServer, type ExampleServer } from '@portcullis/example-express-mcp-server';
import { runCli } from '@portcullis/example-mcp-client';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let server: ExampleServer;
let browser: Browser;
let dir: string;

/** A free loopback port for the redirect URI (the CLI registers the exact URI, so it needs a number up front). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  // Never skip: without the browser this test fails and says how to install it.
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  server = await startExampleServer({ port: 0, devAuthorizationServer: { interactions: 'browser' } });
  dir = await mkdtemp(join(tmpdir(), 'portcullis-browser-'));
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('interop 7: a real browser signs in and consents', () => {
  it('B-03 the CLI prints the URL, Chromium signs in and allows, the CLI finishes and calls whoami', async () => {
    const out: string[] = [];
    let printedUrl: (url: string) => void;
    const urlPrinted = new Promise<string>((resolve) => (printedUrl = resolve));
    const cli = runCli(
      [server.url, 'whoami', '--no-browser', '--callback-port', String(await freePort()), '--store', join(dir, 'store'), '--key-file', join(dir, 'key')],
      {
        out: (line) => out.push(line),
        err: (line) => {
          const match = /^Open this URL to authorize: (\S+)$/.exec(line);
          if (match) printedUrl(match[1]!);
        },
      },
    );
    const authorizationUrl = await Promise.race([urlPrinted, cli.then((code) => Promise.reject(new Error(`the CLI exited (${code}) before printing a URL`)))]);

    const page = await browser.newPage();
    try {
      await page.goto(authorizationUrl);
      // The sign-in page of the development AS (any user name, no password).
      await page.fill('input[name="username"]', 'browser-user');
      await page.click('#sign-in');
      // The consent page names the client, its redirect URI and the scopes per resource.
      await page.waitForSelector('#allow');
      const consent = await page.textContent('body');
      expect(consent).toContain('Portcullis example CLI');
      expect(consent).toContain('mcp:tools');
      expect(consent).toContain(server.resource);
      // Browsers apply the page's CSP form-action to the redirects after the submission: the dev AS
      // must allow the client's redirect origin there, or Chromium blocks the way back to the CLI.
      await page.click('#allow');
      // The loopback helper's page, after the redirect to http://127.0.0.1:<port>/callback.
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
      expect(await page.textContent('body')).toContain('Authorization complete');
    } finally {
      await page.close();
    }

    expect(await cli).toBe(0);
    expect(out[0]).toBe('tools: whoami, echo, admin_report, upstream_whoami');
    expect(JSON.parse(out.slice(1).join('\n'))).toMatchObject({ subject: 'browser-user', scopes: ['mcp:tools'] });
  });
});
