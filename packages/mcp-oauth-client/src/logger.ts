/** Where this package reports warnings. Messages never contain tokens or secrets. */
export interface Logger {
  warn(message: string): void;
  debug?(message: string): void;
}

/** Writes warnings to `console.warn`, drops debug messages. */
export const consoleLogger: Logger = { warn: (message) => console.warn(`[mcp-oauth-client] ${message}`) };

/** Drops everything. */
export const silentLogger: Logger = { warn: () => undefined };
