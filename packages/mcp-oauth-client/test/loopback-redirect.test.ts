import { describe, expect, it } from '@jest/globals';
import type { SpawnOptions } from 'node:child_process';
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
    const pending = handler(new URL('https://as.example/authorize'), { redirectUri, fetch: globalThis.fetch });
    while (printed.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await fetch(`${redirectUri}?code=c`);
    await pending;
    expect(calls).toHaveLength(0);
  });
});
