/**
 * LocalStore: an ObjectStore on a local directory (node:fs). Owns the mapping from keys to files
 * below one root directory and the atomic-write protocol:
 * - `putIfAbsent` writes a temp file, fsyncs it, `link()`s it to the final name (the kernel refuses
 *   if the name exists, so exactly one racer wins, across processes too) and removes the temp.
 * - `put` writes a temp file, fsyncs it and `rename()`s it over the final name (atomic replace).
 * - After either, the containing directory is fsynced so a crash cannot lose a published name.
 *   If that fsync fails the call rejects with IO_ERROR although the object is already visible:
 *   like a timed-out S3 PUT, an IO_ERROR from a write means "outcome unknown", not "not written".
 * Readers therefore never see a partial object. Temp files live beside their target (same
 * directory, hence same filesystem, which `link`/`rename` need) and are named `.weir-tmp-<uuid>`;
 * `list` skips that prefix and keys may not use it. Requires a filesystem with hard links.
 * Keys cannot escape the root (see keys.ts). Empty directories are never removed: deleting them
 * could race with a concurrent put creating a file inside, and listing ignores them anyway.
 */

import { randomUUID } from 'node:crypto';
import type { Dirent, Stats } from 'node:fs';
import {
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
} from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AlreadyExistsError, NotFoundError, WeirError } from './errors.js';
import { assertValidKey, assertValidPrefix, assertValidRange, compareKeys } from './keys.js';
import type { ListOptions, ObjectMeta, ObjectStore, PutOptions } from './object-store.js';

/** Name prefix of in-flight temp files; reserved, so no key segment may start with it. */
export const LOCAL_TEMP_PREFIX = '.weir-tmp-';

/** Files whose metadata `list` fetches concurrently, ahead of the consumer. */
const STAT_BATCH = 64;
/** Concurrent unlinks in `deleteMany`. */
const DELETE_CONCURRENCY = 16;
/** Errors on reads that mean "no such object" (a path through a file, or a directory, is not one). */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);
/** Directory fsync is unsupported on some platforms and filesystems; that is not a failed write. */
const DIR_SYNC_UNSUPPORTED = new Set([
  'EISDIR',
  'EINVAL',
  'EPERM',
  'EACCES',
  'ENOTSUP',
  'EOPNOTSUPP',
  'EBADF',
]);

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface DirEntry {
  name: string;
  /** Full key; directories end in '/' so they sort exactly where their descendants do. */
  key: string;
  isDir: boolean;
}

export class LocalStore implements ObjectStore {
  /** Absolute path of the root directory. */
  readonly directory: string;
  /** `file:///abs/path` of the root directory. */
  readonly root: string;

  /** `directory` is a filesystem path (resolved against the cwd) or a `file:` URL object. */
  constructor(directory: string | URL) {
    this.directory = path.resolve(directory instanceof URL ? fileURLToPath(directory) : directory);
    this.root = pathToFileURL(this.directory).href;
  }

  async get(key: string): Promise<Uint8Array> {
    const file = this.pathOf(key);
    try {
      return plainBytes(await readFile(file));
    } catch (err) {
      throw this.readError('get', key, err);
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    assertValidRange(key, offset, length);
    const file = this.pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      throw this.readError('getRange', key, err);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new NotFoundError(key, { details: { root: this.root } });
      // Size the buffer by what exists, so a huge `length` past EOF allocates nothing extra.
      const end = Math.min(info.size, offset + length);
      if (end <= offset) return new Uint8Array(0);
      const out = new Uint8Array(end - offset);
      let filled = 0;
      while (filled < out.length) {
        const { bytesRead } = await handle.read(out, filled, out.length - filled, offset + filled);
        if (bytesRead === 0) break; // truncated in place since the stat; return what is there
        filled += bytesRead;
      }
      return filled === out.length ? out : out.slice(0, filled);
    } catch (err) {
      throw err instanceof WeirError ? err : this.readError('getRange', key, err);
    } finally {
      await handle.close().catch(ignore);
    }
  }

  async head(key: string): Promise<ObjectMeta> {
    const file = this.pathOf(key);
    let info: Stats;
    try {
      info = await stat(file);
    } catch (err) {
      throw this.readError('head', key, err);
    }
    if (!info.isFile()) throw new NotFoundError(key, { details: { root: this.root } });
    return { key, size: info.size, lastModified: Math.trunc(info.mtimeMs) };
  }

  async put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>, _options?: PutOptions): Promise<void> {
    const file = this.pathOf(key);
    const temp = await this.writeTemp('put', key, file, data);
    try {
      await rename(temp, file);
    } catch (err) {
      await unlink(temp).catch(ignore);
      throw this.ioError('put', key, err);
    }
    await this.syncDir('put', key, path.dirname(file));
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<void> {
    const file = this.pathOf(key);
    const temp = await this.writeTemp('putIfAbsent', key, file, data);
    try {
      await link(temp, file);
    } catch (err) {
      if (errnoOf(err) === 'EEXIST')
        throw new AlreadyExistsError(key, { cause: err, details: { root: this.root } });
      throw this.ioError('putIfAbsent', key, err);
    } finally {
      await unlink(temp).catch(ignore);
    }
    await this.syncDir('putIfAbsent', key, path.dirname(file));
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncGenerator<ObjectMeta> {
    assertValidPrefix(prefix);
    // Only the directory holding the prefix's last segment is read; its entries are filtered by
    // name before anything is stat'ed, so a partial-name prefix in a 100k-file directory is cheap.
    const cut = prefix.lastIndexOf('/') + 1;
    yield* this.listDir(prefix.slice(0, cut), prefix.slice(cut), options.startAfter);
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      await unlink(file);
    } catch (err) {
      if (MISSING.has(errnoOf(err) ?? '')) return;
      throw this.ioError('delete', key, err);
    }
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    // Validate everything first so a bad key fails the call before anything is deleted.
    for (const key of keys) this.pathOf(key);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length) await this.delete(keys[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, keys.length) }, worker));
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    const segments = key.split('/');
    for (const segment of segments) {
      if (segment.startsWith(LOCAL_TEMP_PREFIX)) {
        throw new WeirError(
          'INVALID_KEY',
          `invalid object key ${JSON.stringify(key)}: reserved temp-file name`,
          {
            details: { key, reason: 'reserved temp-file name' },
          },
        );
      }
    }
    if (path.sep === '\\' && key.includes('\\')) {
      throw new WeirError('INVALID_KEY', `invalid object key ${JSON.stringify(key)}: backslash`, {
        details: { key, reason: 'backslash' },
      });
    }
    return path.join(this.directory, ...segments);
  }

  /** Writes `data` to a fresh temp file beside `file` and fsyncs it; removes it on any failure. */
  private async writeTemp(
    op: string,
    key: string,
    file: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
  ): Promise<string> {
    const dir = path.dirname(file);
    const temp = path.join(dir, `${LOCAL_TEMP_PREFIX}${randomUUID()}`);
    const handle = await this.openTemp(op, key, dir, temp);
    let isOpen = true;
    try {
      if (data instanceof Uint8Array) {
        await this.writeAll(op, key, handle, data);
      } else {
        // One chunk in memory at a time; errors thrown by the source itself propagate unchanged.
        for await (const chunk of data) {
          if (!(chunk instanceof Uint8Array)) {
            throw new WeirError('INVALID_ARGUMENT', `put ${key}: stream yielded a non-Uint8Array chunk`, {
              details: { key },
            });
          }
          await this.writeAll(op, key, handle, chunk);
        }
      }
      await this.io(op, key, () => handle.sync());
      isOpen = false;
      await this.io(op, key, () => handle.close());
      return temp;
    } catch (err) {
      if (isOpen) await handle.close().catch(ignore);
      await unlink(temp).catch(ignore);
      throw err;
    }
  }

  private async openTemp(op: string, key: string, dir: string, temp: string): Promise<FileHandle> {
    try {
      return await open(temp, 'wx');
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw this.ioError(op, key, err);
    }
    // Parent directories are created lazily: one failed open is cheaper than a mkdir per write.
    const created = await this.io(op, key, () => mkdir(dir, { recursive: true }));
    if (created !== undefined) {
      // New directory entries must be durable too, or a crash could drop the whole subtree.
      const top = path.dirname(created);
      for (let d = path.dirname(dir); ; d = path.dirname(d)) {
        await this.syncDir(op, key, d);
        if (d === top || d === path.dirname(d)) break;
      }
    }
    return this.io(op, key, () => open(temp, 'wx'));
  }

  private async writeAll(op: string, key: string, handle: FileHandle, bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await this.io(op, key, () =>
        handle.write(bytes, done, bytes.byteLength - done),
      );
      done += bytesWritten;
    }
  }

  private async syncDir(op: string, key: string, dir: string): Promise<void> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(dir, 'r');
      await handle.sync();
    } catch (err) {
      const errno = errnoOf(err) ?? '';
      if (!DIR_SYNC_UNSUPPORTED.has(errno) && errno !== 'ENOENT') throw this.ioError(op, key, err);
    } finally {
      await handle?.close().catch(ignore);
    }
  }

  private async *listDir(
    dirKey: string,
    namePrefix: string,
    startAfter: string | undefined,
  ): AsyncGenerator<ObjectMeta> {
    const dirPath = path.join(this.directory, ...dirKey.split('/').filter((s) => s !== ''));
    let dirents: Dirent[];
    try {
      dirents = await readdir(dirPath, { withFileTypes: true });
    } catch (err) {
      if (MISSING.has(errnoOf(err) ?? '')) return;
      throw this.ioError('list', dirKey, err);
    }
    const entries: DirEntry[] = [];
    for (const dirent of dirents) {
      const name = dirent.name;
      if (!name.startsWith(namePrefix) || name.startsWith(LOCAL_TEMP_PREFIX)) continue;
      let isDir: boolean;
      if (dirent.isFile()) isDir = false;
      else if (dirent.isDirectory()) isDir = true;
      else {
        // Symlinks and filesystems that do not report types: follow the entry to decide.
        const info = await settle(stat(path.join(dirPath, name)));
        if (!info.ok || !(info.value.isFile() || info.value.isDirectory())) continue;
        isDir = info.value.isDirectory();
      }
      const key = isDir ? `${dirKey}${name}/` : `${dirKey}${name}`;
      if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) {
        // A directory sorting at or before the bound still holds later keys only if the bound is
        // inside it; otherwise every key below it sorts before the bound.
        if (!isDir || !startAfter.startsWith(key)) continue;
      }
      entries.push({ name, key, isDir });
    }
    entries.sort((a, b) => compareKeys(a.key, b.key));

    for (let i = 0; i < entries.length; i += STAT_BATCH) {
      const batch = entries.slice(i, i + STAT_BATCH);
      const infos = batch.map((e) => (e.isDir ? undefined : settle(stat(path.join(dirPath, e.name)))));
      for (let j = 0; j < batch.length; j++) {
        const entry = batch[j]!;
        if (entry.isDir) {
          yield* this.listDir(entry.key, '', startAfter);
          continue;
        }
        const info = await infos[j]!;
        if (!info.ok) {
          if (MISSING.has(errnoOf(info.error) ?? '')) continue; // deleted since readdir
          throw this.ioError('list', entry.key, info.error);
        }
        if (!info.value.isFile()) continue;
        yield { key: entry.key, size: info.value.size, lastModified: Math.trunc(info.value.mtimeMs) };
      }
    }
  }

  private async io<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw err instanceof WeirError ? err : this.ioError(op, key, err);
    }
  }

  private readError(op: string, key: string, err: unknown): WeirError {
    if (MISSING.has(errnoOf(err) ?? ''))
      return new NotFoundError(key, { cause: err, details: { root: this.root } });
    return this.ioError(op, key, err);
  }

  private ioError(op: string, key: string, err: unknown): WeirError {
    const errno = errnoOf(err);
    const reason = err instanceof Error ? err.message : String(err);
    return new WeirError('IO_ERROR', `${op} ${JSON.stringify(key)} in ${this.root} failed: ${reason}`, {
      cause: err,
      details: { key, op, root: this.root, ...(errno === undefined ? {} : { errno }) },
    });
  }
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  // Never rejects, so stats started ahead of a consumer that stops early cannot go unhandled.
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/** A plain Uint8Array that owns its whole ArrayBuffer (Buffer's `slice` shares memory; callers expect copies). */
function plainBytes(buf: Buffer): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) {
    return new Uint8Array(buf.buffer, 0, buf.byteLength);
  }
  return new Uint8Array(buf);
}

function ignore(): void {}
