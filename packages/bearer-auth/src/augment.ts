/**
 * Opt-in typing for `req.auth`: `import '@portcullis/bearer-auth/augment';` once in your app.
 * Augments `http.IncomingMessage`, so Express's `Request`, Connect and bare `node:http` handlers
 * all see `req.auth?: AuthInfo` — the same property the MCP SDK transport reads. Opt-in because
 * another library may declare `auth` differently.
 */
import type { AuthInfo } from '@portcullis/token-verification';

declare module 'http' {
  interface IncomingMessage {
    /** Set by `bearerAuth()` after a successful verification. */
    auth?: AuthInfo;
  }
}

export {};
