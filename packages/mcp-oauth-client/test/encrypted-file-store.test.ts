import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative as relativePath } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmod } from 'node:fs/promises';
import { createEncryptedFileStore, defaultKeySource, keyFileSource, keyFromKeychainEntry, type KeychainOpener } from '../src/encrypted-file-store.js';
import { createFileLock } from '../src/refresh-lock.js';
import type { Logger } from '../src/logger.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'portcullis-store-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function recordingLogger() {
  const warnings: string[] = [];
  const logger: Logger = { warn: (m) => warnings.push(m) };
  return { warnings, logger };
}

describe('createEncryptedFileStore (C-38)', () => {
  it('round-trips values and never writes the token in plaintext', async () => {
    const { logger } = recordingLogger();
    const store = createEncryptedFileStore({ directory, key: keyFileSource(join(directory, '.key'), logger), logger });
    await store.set('tokens a', { accessToken: 'at-SECRET-123', refreshToken: 'rt-SECRET-456' });
    expect(await store.get('tokens a')).toEqual({ accessToken: 'at-SECRET-123', refreshToken: 'rt-SECRET-456' });
    for (const file of await readdir(directory)) {
      const content = await readFile(join(directory, file));
      expect(content.includes('SECRET')).toBe(false);
      expect((await stat(join(directory, file))).mode & 0o077).toBe(0);
    }
    await store.delete('tokens a');
    expect(await store.get('tokens a')).toBeUndefined();
  });

  it('warns through the injected logger when it falls back to a 0600 key file', async () => {
    const { warnings, logger } = recordingLogger();
    const store = createEncryptedFileStore({ directory, key: keyFileSource(join(directory, '.key'), logger), logger });
    await store.set('k', { a: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('0600');
    expect((await stat(join(directory, '.key'))).mode & 0o777).toBe(0o600);
    // A second store on the same directory reuses the key silently and reads the value.
    const again = createEncryptedFileStore({ directory, key: keyFileSource(join(directory, '.key'), logger), logger });
    expect(await again.get('k')).toEqual({ a: 1 });
    expect(warnings).toHaveLength(1);
  });

  it('refuses a tampered file or a wrong key with storage_failed', async () => {
    const { logger } = recordingLogger();
    const store = createEncryptedFileStore({ directory, key: keyFileSource(join(directory, '.key'), logger), logger });
    await store.set('k', { a: 1 });
    const wrongKey = createEncryptedFileStore({ directory, key: async () => new Uint8Array(32), logger });
    await expect(wrongKey.get('k')).rejects.toMatchObject({ code: 'storage_failed' });
    const file = (await readdir(directory)).find((f) => f.endsWith('.enc'))!;
    const bytes = await readFile(join(directory, file));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    await writeFile(join(directory, file), bytes);
    await expect(store.get('k')).rejects.toMatchObject({ code: 'storage_failed' });
  });

  it('binds each file to its key name (files cannot be swapped)', async () => {
    const { logger } = recordingLogger();
    const store = createEncryptedFileStore({ directory, key: keyFileSource(join(directory, '.key'), logger), logger });
    await store.set('alice', { who: 'alice' });
    await store.set('bob', { who: 'bob' });
    const files = (await readdir(directory)).filter((f) => f.endsWith('.enc'));
    const [a, b] = await Promise.all(files.map((f) => readFile(join(directory, f))));
    await writeFile(join(directory, files[0]!), b!);
    await writeFile(join(directory, files[1]!), a!);
    await expect(store.get('alice')).rejects.toMatchObject({ code: 'storage_failed' });
  });
});

/** The OS keychain at the edge: entries in memory, and a switch for "no keychain service reachable now". */
function memoryKeychain() {
  const entries = new Map<string, string>();
  const state = { available: true, opened: [] as string[] };
  const open: KeychainOpener = async (service, account) => {
    state.opened.push(account);
    if (!state.available) return undefined;
    const name = `${service}/${account}`;
    return { getPassword: () => entries.get(name), setPassword: (p: string) => void entries.set(name, p) };
  };
  return { entries, state, open };
}

describe('defaultKeySource: a store keeps the key source it was created with (C-38)', () => {
  const storeWith = (keychain: KeychainOpener, logger = recordingLogger().logger, dir = directory) =>
    createEncryptedFileStore({ directory: dir, key: defaultKeySource(dir, logger, keychain), logger });

  it('a keychain store is refused with storage_failed while its keychain is unreachable, and no key file is made', async () => {
    const keychain = memoryKeychain();
    await storeWith(keychain.open).set('k', { a: 1 });
    expect(await readdir(directory)).toContain('.keychain');
    keychain.state.available = false;
    const error = await storeWith(keychain.open).get('k').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'storage_failed', message: expect.stringContaining('keychain') });
    expect(await readdir(directory)).not.toContain('.key');
    keychain.state.available = true;
    expect(await storeWith(keychain.open).get('k')).toEqual({ a: 1 });
  });

  it('a key-file store keeps its key file once a keychain works', async () => {
    const keychain = memoryKeychain();
    keychain.state.available = false;
    const { warnings, logger } = recordingLogger();
    await storeWith(keychain.open, logger).set('k', { a: 1 });
    expect(warnings).toHaveLength(1);
    keychain.state.available = true;
    expect(await storeWith(keychain.open).get('k')).toEqual({ a: 1 });
    expect(keychain.entries.size).toBe(0);
  });

  it('names the keychain entry after the absolute directory, so another spelling of it opens the same store', async () => {
    const keychain = memoryKeychain();
    await storeWith(keychain.open).set('k', { a: 1 });
    expect([...keychain.entries.keys()]).toEqual([`portcullis-mcp-oauth-client/${directory}`]);
    const other = join(directory, '..', basename(directory));
    expect(await storeWith(keychain.open, undefined, other).get('k')).toEqual({ a: 1 });
    expect(keychain.entries.size).toBe(1);
  });

  it('a store made before the marker, opened while its keychain is unreachable, is refused rather than given a key file', async () => {
    const keychain = memoryKeychain();
    const legacyKey = Buffer.alloc(32, 7);
    keychain.entries.set(`portcullis-mcp-oauth-client/${directory}`, legacyKey.toString('base64'));
    await createEncryptedFileStore({ directory, key: async () => legacyKey }).set('k', { a: 1 });
    keychain.state.available = false;
    await expect(storeWith(keychain.open).get('k')).rejects.toMatchObject({ code: 'storage_failed', message: expect.stringContaining('keychain') });
    expect(await readdir(directory)).not.toContain('.key');
    keychain.state.available = true;
    expect(await storeWith(keychain.open).get('k')).toEqual({ a: 1 });
  });

  it('a store made before the marker, its entry named after the directory as given, keeps its key', async () => {
    const keychain = memoryKeychain();
    const relative = join('.', relativePath(process.cwd(), directory));
    const legacyKey = Buffer.alloc(32, 9);
    keychain.entries.set(`portcullis-mcp-oauth-client/${relative}`, legacyKey.toString('base64'));
    await createEncryptedFileStore({ directory, key: async () => legacyKey }).set('k', { a: 1 });
    expect(await storeWith(keychain.open, undefined, relative).get('k')).toEqual({ a: 1 });
    expect(await readFile(join(directory, '.keychain'), 'utf8')).toBe(relative);
    expect(keychain.entries.size).toBe(1);
  });
});

describe('keychain key creation race', () => {
  it('uses the key another process wrote first when the read-back is a valid 32-byte key', () => {
    const winner = Buffer.alloc(32, 7).toString('base64');
    let stored: string | undefined;
    let reads = 0;
    // The keychain at the edge: empty on the first read; the other process's write lands after ours.
    const entry = {
      getPassword: () => (reads++ === 0 ? undefined : stored),
      setPassword: () => void (stored = winner),
    };
    const key = keyFromKeychainEntry(entry);
    expect(Buffer.from(key!).toString('base64')).toBe(winner);
  });

  it('still refuses a backend that cannot return what it stored', () => {
    expect(keyFromKeychainEntry({ getPassword: () => undefined, setPassword: () => undefined })).toBeUndefined();
  });
});

(process.platform === 'win32' ? describe.skip : describe)('permissions of existing files (POSIX)', () => {
  it('refuses a store directory group/world-accessible', async () => {
    await chmod(directory, 0o755);
    const store = createEncryptedFileStore({ directory, key: keyFileSource(join(directory, '.key'), recordingLogger().logger) });
    await expect(store.get('x')).rejects.toMatchObject({ code: 'storage_failed', message: expect.stringContaining('group or others') });
  });

  it('refuses a group/world-readable .key file', async () => {
    await writeFile(join(directory, '.key'), Buffer.alloc(32, 1), { mode: 0o644 });
    await chmod(join(directory, '.key'), 0o644);
    const store = createEncryptedFileStore({ directory, key: keyFileSource(join(directory, '.key'), recordingLogger().logger) });
    await expect(store.set('x', { a: 1 })).rejects.toMatchObject({ code: 'storage_failed', message: expect.stringContaining('key file') });
  });

  it('refuses a group/world-accessible lock directory', async () => {
    await chmod(directory, 0o777);
    const lock = createFileLock({ directory });
    await expect(lock.withLock('k', async () => 1)).rejects.toMatchObject({ code: 'storage_failed' });
    await chmod(directory, 0o700);
    await expect(createFileLock({ directory }).withLock('k', async () => 1)).resolves.toBe(1);
  });
});

