import { describe, expect, it } from '@jest/globals';
import type { SpawnOptions } from 'node:child_process';
import { connect } from 'node:net';
import { McpOAuthError } from '../src/errors.js';
import { createLoopbackAuthorizationHandler, openBrowser, startLoopbackRedirectServer, type SpawnFunction } from '../src/loopback-redirect.js';

function recordingSpawn() {
  const calls: Array<{ command: string; args: readonly string[]; options: SpawnOptions }> = [];
  const spawn: SpawnFunction = (command, args, options) => {
    calls.push({ command, args, options });
    return { unref: () => undefined, on: () => undefined };
  };
  return { calls, spawn };
}

describe('startLoopbackRedirectServer (RFC 8252 §7.3)', () => {
  it('listens on 127.0.0.1 with an ephemeral port, answers one callback with a close-this-window page, then closes', async () => {
    const server = await startLoopbackRedirectServer();
    expect(server.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect((await fetch(`${server.redirectUri.replace('/callback', '/other')}`)).status).toBe(404);
    const response = await fetch(`${server.redirectUri}?code=abc&state=xyz`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('close this window');
    const callback = await server.waitForCallback();
    expect(callback.searchParams.get('code')).toBe('abc');
    await server.close();
    await expect(fetch(`${server.redirectUri}?code=again`)).rejects.toThrow();
  });

  it('RFC 8252 §8.3 (any local process can connect): answers 400 to a request target that is not a URL and keeps waiting for the callback', async () => {
    const server = await startLoopbackRedirectServer();
    const { port } = new URL(server.redirectUri);
    // Any local process can send this; `new URL('http://[', base)` throws.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end('GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect((await fetch(`${server.redirectUri}?code=abc&state=xyz`)).status).toBe(200);
    expect((await server.waitForCallback()).searchParams.get('code')).toBe('abc');
    await server.close();
  });

  it('two servers at once get different ports', async () => {
    const [a, b] = await Promise.all([startLoopbackRedirectServer(), startLoopbackRedirectServer()]);
    expect(a.redirectUri).not.toBe(b.redirectUri);
    await Promise.all([a.close(), b.close()]);
  });

  it('rejects with callback_timeout when nothing arrives', async () => {
    const server = await startLoopbackRedirectServer({ timeoutMs: 20 });
    await expect(server.waitForCallback()).rejects.toMatchObject({ code: 'callback_timeout' });
  });
});

describe('openBrowser', () => {
  it.each([
    ['linux', 'xdg-open', ['https://as.example/authorize?x=1&y=2']],
    ['darwin', 'open', ['https://as.example/authorize?x=1&y=2']],
    ['win32', 'rundll32', ['url.dll,FileProtocolHandler', 'https://as.example/authorize?x=1&y=2']],
  ] as const)('C-49 on %s spawns %s without a shell, the URL as a single argument', (platform, command, args) => {
    const { calls, spawn } = recordingSpawn();
    openBrowser('https://as.example/authorize?x=1&y=2', { platform, spawn });
    expect(calls).toEqual([{ command, args, options: expect.objectContaining({ shell: false }) }]);
  });

  it.each(['javascript:alert(1)', 'file:///etc/passwd', 'data:text/html,<script>', 'vbscript:msgbox', 'smb://host/share'])('C-48 refuses %s before spawning', (url) => {
    const { calls, spawn } = recordingSpawn();
    expect(() => openBrowser(url, { spawn })).toThrow(McpOAuthError);
    expect(calls).toHaveLength(0);
  });
});

describe('createLoopbackAuthorizationHandler', () => {
  it('serves the client redirect URI, opens the browser, and returns the callback', async () => {
    const probe = await startLoopbackRedirectServer();
    const redirectUri = probe.redirectUri;
    await probe.close().catch(() => undefined);
    const printed: string[] = [];
    const { calls, spawn } = recordingSpawn();
    const handler = createLoopbackAuthorizationHandler({ logger: { warn: (m) => printed.push(m) }, openBrowserOptions: { platform: 'linux', spawn } });
    const pending = handler(new URL('https://as.example/authorize?state=s'), { redirectUri, fetch: globalThis.fetch });
    // The "browser": once the handler has spawned the opener, follow the redirect to the loopback server.
    while (calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await fetch(`${redirectUri}?code=c&state=s`);
    expect((await pending).toString()).toBe(`${redirectUri}?code=c&state=s`);
    expect(printed[0]).toContain('https://as.example/authorize?state=s');
  });

  it('print mode only prints the URL (headless)', async () => {
    const probe = await startLoopbackRedirectServer();
    const redirectUri = probe.redirectUri;
    await probe.close().catch(() => undefined);
    const printed: string[] = [];
    const { calls, spawn } = recordingSpawn();
    const handler = createLoopbackAuthorizationHandler({ mode: 'print', logger: { warn: (m) => printed.push(m) }, openBrowserOptions: { spawn } });
    const pending = handler(new URL('https://as.example/authorize?state=p'), { redirectUri, fetch: globalThis.fetch });
    while (printed.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await fetch(`${redirectUri}?code=c&state=p`);
    await pending;
    expect(calls).toHaveLength(0);
  });

  it('takes only the callback with the authorization request\'s state: others get 400 and the real one still arrives', async () => {
    const probe = await startLoopbackRedirectServer();
    const redirectUri = probe.redirectUri;
    await probe.close().catch(() => undefined);
    const printed: string[] = [];
    const handler = createLoopbackAuthorizationHandler({ mode: 'print', logger: { warn: (m) => printed.push(m) }, timeoutMs: 5_000 });
    const pending = handler(new URL('https://as.example/authorize?state=REAL'), { redirectUri, fetch: globalThis.fetch });
    while (printed.length === 0) await new Promise((resolve) => setImmediate(resolve));
    // A local process or a web page's no-cors fetch to the predictable port.
    expect((await fetch(`${redirectUri}?code=junk&state=attacker`)).status).toBe(400);
    expect((await fetch(`${redirectUri}?code=junk`)).status).toBe(400);
    expect((await fetch(redirectUri)).status).toBe(400);
    expect((await fetch(`${redirectUri}?code=good&state=REAL`)).status).toBe(200);
    expect(new URL(await pending).searchParams.get('code')).toBe('good');
  });

  it('refuses an authorization URL without state', async () => {
    const handler = createLoopbackAuthorizationHandler({ mode: 'print', logger: { warn: () => undefined } });
    await expect(handler(new URL('https://as.example/authorize'), { redirectUri: 'http://127.0.0.1:9/cb', fetch: globalThis.fetch })).rejects.toMatchObject({ code: 'invalid_options' });
  });
});

describe('startLoopbackRedirectServer expectedState', () => {
  it('answers 400 to callbacks with another state and keeps listening until the right one or the timeout', async () => {
    const server = await startLoopbackRedirectServer({ expectedState: 'st', timeoutMs: 2_000 });
    expect((await fetch(`${server.redirectUri}?code=x&state=other`)).status).toBe(400);
    expect((await fetch(`${server.redirectUri}?code=ok&state=st`)).status).toBe(200);
    expect((await server.waitForCallback()).searchParams.get('code')).toBe('ok');
    await server.close();
    const idle = await startLoopbackRedirectServer({ expectedState: 'st', timeoutMs: 1_000 }); // room for the fetch below on a busy machine
    expect((await fetch(`${idle.redirectUri}?code=x&state=nope`)).status).toBe(400);
    await expect(idle.waitForCallback()).rejects.toMatchObject({ code: 'callback_timeout' });
  });
});
