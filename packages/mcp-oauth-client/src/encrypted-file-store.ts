import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { McpOAuthError } from './errors.js';
import { assertKnownOptions, type KnownOptions } from './known-options.js';
import { consoleLogger, type Logger } from './logger.js';
import type { StoredValue, TokenStore } from './token-store.js';

/** Supplies the 32-byte AES-256-GCM key. */
export type KeySource = () => Promise<Uint8Array>;

/** Options of {@link createEncryptedFileStore}. */
export interface EncryptedFileStoreOptions {
  /** Directory of the store (created 0700): one encrypted file per key, so processes writing different keys never clash. Required. */
  readonly directory: string;
  /**
   * The encryption key. Default {@link defaultKeySource}: the OS keychain through `@napi-rs/keyring`
   * when it works here, else a random key in `<directory>/.key` (0600) with a warning through `logger`.
   */
  readonly key?: KeySource;
  /** Receives the key-file warning. Default: `console.warn`. */
  readonly logger?: Logger;
}

const ENCRYPTED_FILE_STORE_OPTIONS: KnownOptions<EncryptedFileStoreOptions> = { directory: true, key: true, logger: true };

const SERVICE = 'portcullis-mcp-oauth-client';

/**
 * Refuses (`storage_failed`) an existing directory or file that its group or others can access
 * (mode & 0o077), on POSIX systems: the token store, its key file and the lock directory must be private.
 */
export async function assertPrivate(path: string, what: string): Promise<void> {
  if (process.platform === 'win32') return;
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new McpOAuthError('storage_failed', `Could not check the permissions of the ${what} ${path}`, { cause: error });
  }
  if ((mode & 0o077) !== 0) {
    throw new McpOAuthError(
      'storage_failed',
      `The ${what} ${path} is accessible to its group or others (mode ${(mode & 0o777).toString(8)}); refusing to use it — make it private (chmod go-rwx)`,
    );
  }
}

/** The part of a `@napi-rs/keyring` `Entry` the key source uses. */
export interface KeychainEntry {
  getPassword(): string | null | undefined;
  setPassword(password: string): void;
}

const asKey = (stored: string | null | undefined): Uint8Array | undefined => {
  if (!stored) return undefined;
  const key = Buffer.from(stored, 'base64');
  return key.length === 32 ? key : undefined;
};

/**
 * The key kept in a keychain entry, created when missing. Read back after writing: some backends accept
 * writes they cannot return (→ undefined), and a process creating the key at the same time may have won —
 * its key, read back, is the one to use.
 */
export function keyFromKeychainEntry(entry: KeychainEntry): Uint8Array | undefined {
  const existing = asKey(entry.getPassword());
  if (existing) return existing;
  entry.setPassword(randomBytes(32).toString('base64'));
  return asKey(entry.getPassword());
}

/** Opens a keychain entry; `undefined` when there is no usable keychain here. */
export type KeychainOpener = (service: string, account: string) => Promise<KeychainEntry | undefined>;

/** The OS keychain through the optional `@napi-rs/keyring`: absent, or no keychain service here (headless Linux, CI) → undefined. */
const osKeychain: KeychainOpener = async (service, account) => {
  try {
    const { Entry } = await import('@napi-rs/keyring');
    return new Entry(service, account);
  } catch {
    return undefined;
  }
};

/** The entry's key, created when missing; `undefined` when the keychain fails (a locked or absent service). */
function keyFromEntry(entry: KeychainEntry | undefined, create: boolean): Uint8Array | undefined {
  try {
    return entry === undefined ? undefined : create ? keyFromKeychainEntry(entry) : asKey(entry.getPassword());
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new McpOAuthError('storage_failed', `Could not read ${path}`, { cause: error });
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new McpOAuthError('storage_failed', `Could not read ${path}`, { cause: error });
  }
}

async function keyFromFile(path: string, logger: Logger): Promise<Uint8Array> {
  await assertPrivate(path, 'token store key file');
  try {
    const existing = await readFile(path);
    if (existing.length === 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new McpOAuthError('storage_failed', 'Could not read the token store key file', { cause: error });
  }
  const key = randomBytes(32);
  try {
    await writeFile(path, key, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFile(path);
    throw new McpOAuthError('storage_failed', 'Could not write the token store key file', { cause: error });
  }
  logger.warn(`No OS keychain available: the token store key is kept in ${path} (mode 0600). Anyone who can read that file can decrypt the tokens.`);
  return key;
}

/**
 * The default key source: the OS keychain when available, else a 0600 key file with a warning.
 *
 * A store keeps the source it was created with, since another key would fail every read: a `.key`
 * file, once there, is used whether or not a keychain works now; a store whose key is in the keychain
 * says so in `<directory>/.keychain` (the entry's name, the directory's absolute path at creation), and
 * is refused (`storage_failed`) while that keychain cannot be reached, rather than given a new key.
 * `keychain` opens an entry (default: the OS keychain through `@napi-rs/keyring`).
 */
export function defaultKeySource(directory: string, logger: Logger = consoleLogger, keychain: KeychainOpener = osKeychain): KeySource {
  const keyFile = join(directory, '.key');
  const marker = join(directory, '.keychain');
  return async () => {
    if (await exists(keyFile)) return keyFromFile(keyFile, logger);
    const recorded = await readIfExists(marker);
    if (recorded !== undefined) {
      const key = keyFromEntry(await keychain(SERVICE, recorded), false);
      if (key) return key;
      throw new McpOAuthError(
        'storage_failed',
        `The token store key is in the OS keychain (entry ${JSON.stringify(recorded)}), which cannot be read now; not creating another key, which would make the stored tokens unreadable`,
      );
    }
    // Stores made before the marker named their entry after the directory as given.
    const legacy = directory !== resolve(directory) && keyFromEntry(await keychain(SERVICE, directory), false) !== undefined;
    const account = legacy ? directory : resolve(directory);
    const key = keyFromEntry(await keychain(SERVICE, account), true);
    if (!key) {
      // Entries but neither a key file nor a marker: a store made before the marker, its key in a
      // keychain that cannot be read now. A new key file would leave them unreadable for good.
      if ((await readdir(directory).catch(() => [] as string[])).some((name) => name.endsWith('.enc'))) {
        throw new McpOAuthError('storage_failed', `The token store ${directory} has entries but no key file: its key is in the OS keychain, which cannot be read now`);
      }
      return keyFromFile(keyFile, logger);
    }
    try {
      await writeFile(marker, account, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new McpOAuthError('storage_failed', `Could not write ${marker}`, { cause: error });
    }
    return key;
  };
}

/** A key file source without trying the keychain (tests, containers). Still warns once when it creates the file. */
export function keyFileSource(path: string, logger: Logger = consoleLogger): KeySource {
  return () => keyFromFile(path, logger);
}

/**
 * A {@link TokenStore} that never writes plaintext (C-38): each value is encrypted with AES-256-GCM
 * (`node:crypto`, random 96-bit IV, the key name as additional authenticated data so files cannot be
 * swapped) and written atomically (temporary file, then rename) with mode 0600.
 */
export function createEncryptedFileStore(options: EncryptedFileStoreOptions): TokenStore {
  assertKnownOptions(options, ENCRYPTED_FILE_STORE_OPTIONS, 'createEncryptedFileStore options');
  const logger = options.logger ?? consoleLogger;
  const keySource = options.key ?? defaultKeySource(options.directory, logger);
  let key: Promise<Uint8Array> | undefined;
  let ready: Promise<unknown> | undefined;
  const init = async () => {
    ready ??= mkdir(options.directory, { recursive: true, mode: 0o700 }).then(() => assertPrivate(options.directory, 'token store directory'));
    ready.catch(() => (ready = undefined));
    await ready;
    key ??= keySource().then((k) => {
      if (k.length !== 32) throw new McpOAuthError('invalid_options', 'The token store key must be 32 bytes');
      return k;
    });
    key.catch(() => (key = undefined));
    return key;
  };
  const fileOf = (name: string) => join(options.directory, `${createHash('sha256').update(name).digest('hex')}.enc`);

  return {
    async get(name) {
      const k = await init();
      let raw: Buffer;
      try {
        raw = await readFile(fileOf(name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new McpOAuthError('storage_failed', 'Could not read the token store', { cause: error });
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', k, raw.subarray(0, 12));
        decipher.setAAD(Buffer.from(name));
        decipher.setAuthTag(raw.subarray(12, 28));
        const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
        return JSON.parse(plain.toString('utf8')) as StoredValue;
      } catch (cause) {
        throw new McpOAuthError('storage_failed', 'A token store entry failed to decrypt (wrong key or tampered file)', { cause });
      }
    },
    async set(name, value) {
      const k = await init();
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', k, iv);
      cipher.setAAD(Buffer.from(name));
      const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      const file = fileOf(name);
      const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await writeFile(temporary, Buffer.concat([iv, cipher.getAuthTag(), data]), { mode: 0o600 });
        await chmod(temporary, 0o600);
        await rename(temporary, file);
      } catch (cause) {
        await rm(temporary, { force: true });
        throw new McpOAuthError('storage_failed', 'Could not write the token store', { cause });
      }
    },
    async delete(name) {
      await init();
      await rm(fileOf(name), { force: true });
    },
  };
}
