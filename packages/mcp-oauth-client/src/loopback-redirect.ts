import { spawn as nodeSpawn, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpOAuthError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';
import { consoleLogger, type Logger } from './logger.js';
import type { AuthorizationHandler } from './oauth-client.js';

/** Options of {@link startLoopbackRedirectServer}. */
export interface LoopbackRedirectOptions {
  /** Port on 127.0.0.1. Default 0: an ephemeral port chosen by the OS (RFC 8252 §7.3), so runs never collide. */
  readonly port?: number;
  /** Path of the redirect URI. Default `/callback`. */
  readonly path?: string;
  /** Reject `waitForCallback` with `callback_timeout` after this long, in ms. Default 300 000. */
  readonly timeoutMs?: number;
  /**
   * The `state` of the authorization request: only a callback carrying exactly this `state` is taken;
   * any other request on the path gets 400 and the server keeps listening, so a local process or a web
   * page hitting the predictable port cannot pre-empt the real callback. Set it whenever you know it.
   */
  readonly expectedState?: string;
}

const LOOPBACK_REDIRECT_OPTIONS: KnownOptions<LoopbackRedirectOptions> = { port: true, path: true, timeoutMs: true, expectedState: true };

/** A one-shot loopback redirect receiver. */
export interface LoopbackRedirectServer {
  /** `http://127.0.0.1:<port><path>`: register this exact URI (C-29). */
  readonly redirectUri: string;
  /** Resolves with the first callback URL received on the path (with the expected `state`, when set); the server then closes. */
  waitForCallback(): Promise<URL>;
  close(): Promise<void>;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>Signed in</title><p>Authorization complete. You can close this window.</p>`;

/**
 * Listens on 127.0.0.1 (never `localhost`, never all interfaces: RFC 8252 §7.3, §8.3) for exactly one
 * callback, answers it with a small page saying the window can be closed, and closes. Other paths get 404;
 * with `expectedState`, callbacks with another (or no) `state` get 400 and the server keeps waiting.
 */
export async function startLoopbackRedirectServer(options: LoopbackRedirectOptions = {}): Promise<LoopbackRedirectServer> {
  assertKnownOptions(options, LOOPBACK_REDIRECT_OPTIONS, 'startLoopbackRedirectServer options');
  const path = options.path ?? '/callback';
  const timeoutMs = options.timeoutMs ?? 300_000;
  let settle: { resolve: (url: URL) => void; reject: (error: unknown) => void } | undefined;
  const received = new Promise<URL>((resolve, reject) => (settle = { resolve, reject }));
  received.catch(() => undefined);
  let done = false;
  const server = createServer((req, res) => {
    const url = URL.parse(req.url ?? '/', redirectUri);
    if (url === null) {
      // Any local process can connect: a request target that is not a URL must not end the flow.
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Bad request');
      return;
    }
    if (done || req.method !== 'GET' || url.pathname !== path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    if (options.expectedState !== undefined && url.searchParams.get('state') !== options.expectedState) {
      res.writeHead(400, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('Bad request');
      return;
    }
    done = true;
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'",
      'referrer-policy': 'no-referrer',
      connection: 'close',
    });
    res.end(PAGE, () => void close());
    settle?.resolve(url);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  const timer = setTimeout(() => {
    settle?.reject(new McpOAuthError('callback_timeout', `No authorization callback within ${timeoutMs} ms`));
    void close();
  }, timeoutMs);
  timer.unref();
  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    clearTimeout(timer);
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    if (!done) settle?.reject(new McpOAuthError('callback_timeout', 'The loopback redirect server was closed before a callback arrived'));
    return closing;
  }
  return { redirectUri, waitForCallback: () => received, close };
}

/** The spawn used by {@link openBrowser}: injectable for tests. */
export type SpawnFunction = (command: string, args: readonly string[], options: SpawnOptions) => { unref(): void; on(event: 'error', listener: (error: Error) => void): unknown };

/** Options of {@link openBrowser}. */
export interface OpenBrowserOptions {
  /** Default `process.platform`. */
  readonly platform?: NodeJS.Platform;
  /** Default `child_process.spawn`. */
  readonly spawn?: SpawnFunction;
}

const OPEN_BROWSER_OPTIONS: KnownOptions<OpenBrowserOptions> = { platform: true, spawn: true };

/**
 * Opens `url` in the system browser without a shell (C-49): `open` on macOS, `rundll32
 * url.dll,FileProtocolHandler` on Windows, `xdg-open` elsewhere, the URL as one argument. Only
 * `http:`/`https:` URLs are opened (C-48); anything else is refused with `invalid_url` before spawning.
 */
export function openBrowser(url: URL | string, options: OpenBrowserOptions = {}): void {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new McpOAuthError('invalid_url', `Refusing to open a ${parsed.protocol} URL in the browser`);
  }
  const platform = options.platform ?? process.platform;
  const spawn = options.spawn ?? (nodeSpawn as unknown as SpawnFunction);
  const [command, args] =
    platform === 'darwin' ? ['open', [parsed.href]] : platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', parsed.href]] : ['xdg-open', [parsed.href]];
  const child = spawn(command, args as string[], { shell: false, stdio: 'ignore', detached: true, windowsHide: true });
  child.on('error', () => undefined);
  child.unref();
}

/** Options of {@link createLoopbackAuthorizationHandler}. */
export interface LoopbackAuthorizationOptions {
  /** `browser` (default) opens the system browser; `print` only prints the URL (headless machines, SSH). */
  readonly mode?: 'browser' | 'print';
  /** Where the URL is printed (always, so the user can copy it). Default: `console.warn` through {@link consoleLogger}. */
  readonly logger?: Logger;
  /** Default 300 000 ms. */
  readonly timeoutMs?: number;
  readonly openBrowserOptions?: OpenBrowserOptions;
}

const LOOPBACK_AUTHORIZATION_OPTIONS: KnownOptions<LoopbackAuthorizationOptions> = { mode: true, logger: true, timeoutMs: true, openBrowserOptions: true };

/**
 * An {@link AuthorizationHandler} for desktop and CLI clients: listens on the client's loopback
 * `redirectUri` (which must be `http://127.0.0.1:<port>/<path>`), opens the browser (or prints the URL),
 * and resolves with the callback.
 */
export function createLoopbackAuthorizationHandler(options: LoopbackAuthorizationOptions = {}): AuthorizationHandler {
  assertKnownOptions(options, LOOPBACK_AUTHORIZATION_OPTIONS, 'createLoopbackAuthorizationHandler options');
  assertKnownOptions(options.openBrowserOptions, OPEN_BROWSER_OPTIONS, 'createLoopbackAuthorizationHandler openBrowserOptions');
  const logger = options.logger ?? consoleLogger;
  return async (authorizationUrl, { redirectUri }) => {
    const redirect = new URL(redirectUri);
    if (redirect.protocol !== 'http:' || redirect.hostname !== '127.0.0.1') {
      throw new McpOAuthError('invalid_options', 'The loopback authorization handler needs a redirectUri of the form http://127.0.0.1:<port>/<path>');
    }
    // Only the callback of this very authorization request is taken (its `state`, C-30).
    const expectedState = authorizationUrl.searchParams.get('state');
    if (!expectedState) throw new McpOAuthError('invalid_options', 'The authorization URL carries no state; the loopback handler cannot tell its callback from any other request');
    const server = await startLoopbackRedirectServer({
      port: Number(redirect.port || 80),
      path: redirect.pathname,
      expectedState,
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    });
    try {
      logger.warn(`Open this URL to authorize: ${authorizationUrl.href}`);
      if ((options.mode ?? 'browser') === 'browser') openBrowser(authorizationUrl, options.openBrowserOptions);
      return await server.waitForCallback();
    } finally {
      await server.close();
    }
  };
}
