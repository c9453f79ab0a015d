import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeObjectStoreContract } from './contract-suite.js';
import { NotFoundError, WeirError } from './errors.js';
import { LOCAL_TEMP_PREFIX, LocalStore } from './local-store.js';
import { listAll } from './object-store.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function freshDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'weir-local-store-'));
}

describeObjectStoreContract('LocalStore', async () => {
  const dir = await freshDir();
  return { store: new LocalStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

/** Every file below `dir`, relative, '/'-separated, including temp files. */
async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WeirError);
  return (err as WeirError).code;
}

describe('LocalStore', () => {
  let dir: string;
  let store: LocalStore;

  beforeEach(async () => {
    dir = await freshDir();
    store = new LocalStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exposes its root as a file URL and maps keys to nested files', async () => {
    expect(store.directory).toBe(path.resolve(dir));
    expect(store.root).toBe(pathToFileURL(dir).href);
    expect(new LocalStore(new URL(store.root)).directory).toBe(store.directory);
    await store.put('part=a b/x%20y.parquet', text('data'));
    expect(await readFile(path.join(dir, 'part=a b', 'x%20y.parquet'), 'utf8')).toBe('data');
  });

  it('reads and lists files written by other programs', async () => {
    await mkdir(path.join(dir, '_delta_log'), { recursive: true });
    await writeFile(path.join(dir, '_delta_log', '00000000000000000000.json'), '{}\n');
    await writeFile(path.join(dir, '_delta_log', '.00000000000000000000.json.crc'), 'crc');
    expect(await listAll(store, '_delta_log/')).toMatchObject([
      { key: '_delta_log/.00000000000000000000.json.crc', size: 3 },
      { key: '_delta_log/00000000000000000000.json', size: 3 },
    ]);
    expect(new TextDecoder().decode(await store.get('_delta_log/00000000000000000000.json'))).toBe('{}\n');
  });

  it('treats a missing root as an empty store', async () => {
    const missing = new LocalStore(path.join(dir, 'not', 'yet'));
    expect(await listAll(missing, '')).toEqual([]);
    await expect(missing.get('k')).rejects.toBeInstanceOf(NotFoundError);
    await missing.put('k', text('v'));
    expect(await listAll(missing, '')).toHaveLength(1);
  });

  it('never lists temp files, even while a write is in flight', async () => {
    await store.put('log/a.json', text('a'));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started!: () => void;
    const midway = new Promise<void>((resolve) => {
      started = resolve;
    });
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield text('first half;');
      started();
      await gate;
      yield text('second half');
    }
    const writing = store.put('log/b.json', slow());
    await midway;
    // Give the first chunk time to reach the temp file.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const onDisk = await filesBelow(dir);
    expect(onDisk.some((f) => f.startsWith(`log/${LOCAL_TEMP_PREFIX}`))).toBe(true);
    expect((await listAll(store, '')).map((m) => m.key)).toEqual(['log/a.json']);
    expect((await listAll(store, 'log/.')).map((m) => m.key)).toEqual([]);
    await expect(store.get('log/b.json')).rejects.toBeInstanceOf(NotFoundError);
    release();
    await writing;
    expect((await listAll(store, '')).map((m) => m.key)).toEqual(['log/a.json', 'log/b.json']);
    expect(await filesBelow(dir)).toEqual(['log/a.json', 'log/b.json']);
  });

  it('removes temp files when a write fails or putIfAbsent loses', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield text('partial');
      throw new Error('source failed');
    }
    await expect(store.put('x/y', failing())).rejects.toThrow('source failed');
    await store.putIfAbsent('x/z', text('1'));
    await expect(store.putIfAbsent('x/z', text('2'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await filesBelow(dir)).toEqual(['x/z']);
  });

  it('rejects keys that could escape the root or are reserved', async () => {
    // The store is rooted one level down, so an escaping write would land in `dir` where we can see it.
    const inner = new LocalStore(path.join(dir, 'inner'));
    const bad = [
      '../escape',
      'a/../../escape',
      '/etc/passwd',
      path.join(dir, 'abs'),
      'a/./b',
      'a//b',
      'trailing/',
      '',
      'nul\0byte',
      `${LOCAL_TEMP_PREFIX}123`,
      `d/${LOCAL_TEMP_PREFIX}x/y`,
    ];
    for (const key of bad) {
      expect(await codeOf(inner.put(key, text('x'))), key).toBe('INVALID_KEY');
      expect(await codeOf(inner.putIfAbsent(key, text('x'))), key).toBe('INVALID_KEY');
      expect(await codeOf(inner.get(key)), key).toBe('INVALID_KEY');
      expect(await codeOf(inner.getRange(key, 0, 1)), key).toBe('INVALID_KEY');
      expect(await codeOf(inner.head(key)), key).toBe('INVALID_KEY');
      expect(await codeOf(inner.delete(key)), key).toBe('INVALID_KEY');
    }
    expect(await codeOf(inner.deleteMany(['ok', '../bad']))).toBe('INVALID_KEY');
    expect(await codeOf(listAll(inner, '../'))).toBe('INVALID_KEY');
    expect(await codeOf(listAll(inner, 'a/../'))).toBe('INVALID_KEY');
    expect(await codeOf(listAll(inner, '/abs'))).toBe('INVALID_KEY');
    expect(await filesBelow(dir)).toEqual([]);
  });

  it('maps other filesystem errors to IO_ERROR naming the key', async () => {
    await store.put('file', text('x'));
    const err = await store.put('file/child', text('y')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WeirError);
    expect(err).toMatchObject({ code: 'IO_ERROR', retryable: false, details: { key: 'file/child' } });
    expect((err as WeirError).message).toContain('file/child');
  });

  it('lists a prefix in a directory of many files', async () => {
    const names = Array.from({ length: 3000 }, (_, v) => `${String(v).padStart(20, '0')}.json`);
    await mkdir(path.join(dir, '_delta_log'));
    for (let i = 0; i < names.length; i += 100) {
      await Promise.all(names.slice(i, i + 100).map((n) => writeFile(path.join(dir, '_delta_log', n), n)));
    }
    const keys = (await listAll(store, '_delta_log/0000000000000000299')).map((m) => m.key);
    expect(keys).toEqual(Array.from({ length: 10 }, (_, i) => `_delta_log/${names[2990 + i]}`));
    const after = await listAll(store, '_delta_log/', { startAfter: `_delta_log/${names[2997]}` });
    expect(after.map((m) => m.key)).toEqual([`_delta_log/${names[2998]}`, `_delta_log/${names[2999]}`]);
    expect(await listAll(store, '_delta_log/')).toHaveLength(3000);
  });

  it('lets exactly one of 8 processes win a putIfAbsent race', async () => {
    const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
    const racer = fileURLToPath(new URL('./__fixtures__/put-if-absent-racer.ts', import.meta.url));
    const key = '_delta_log/00000000000000000000.json';
    const children = Array.from({ length: 8 }, (_, id) => {
      const child = spawn(
        process.execPath,
        ['--conditions=@weir/source', '--import', 'tsx', racer, dir, key, String(id)],
        { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          stdout += chunk;
          if (stdout.includes('ready\n')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`racer ${id} exited early (${code}): ${stderr}`)));
      });
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
      });
      const exited = new Promise<{ id: number; ok: boolean; code?: string }>((resolve, reject) => {
        child.on('exit', (code) => {
          const line = stdout.split('\n').find((l) => l.startsWith('{'));
          if (code !== 0 || line === undefined) reject(new Error(`racer ${id} failed (${code}): ${stderr}`));
          else resolve(JSON.parse(line) as { id: number; ok: boolean; code?: string });
        });
      });
      // Marked handled here: if another racer fails first, this one is killed and its result unused.
      exited.catch(() => {});
      ready.catch(() => {});
      return { child, ready, exited };
    });
    let results: { id: number; ok: boolean; code?: string }[];
    try {
      await Promise.all(children.map((c) => c.ready));
      for (const { child } of children) child.stdin.write('go\n');
      results = await Promise.all(children.map((c) => c.exited));
    } finally {
      for (const { child } of children)
        if (child.exitCode === null && child.signalCode === null) child.kill();
    }

    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => r.code)).toEqual(Array(7).fill('ALREADY_EXISTS'));
    const stored = await store.get(key);
    expect(stored.byteLength).toBe(1024 * 1024);
    expect(stored.every((b) => b === winners[0]!.id)).toBe(true);
    expect(await filesBelow(dir)).toEqual([key]);
  });
});
