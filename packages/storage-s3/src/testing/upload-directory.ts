/**
 * Copies a local directory tree into an ObjectStore (e.g. the reference tables into a bucket, for
 * the compatibility suites on S3). Keys are the files' relative paths, '/'-separated, below
 * `prefix`; files are read one at a time. Returns the keys written, sorted.
 */

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore } from '@weir/storage';

export async function uploadDirectory(localDir: string, store: ObjectStore, prefix = ''): Promise<string[]> {
  const entries = await readdir(localDir, { recursive: true, withFileTypes: true });
  const keys: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const relative = path.relative(localDir, file).split(path.sep).join('/');
    const key = prefix === '' ? relative : `${prefix.replace(/\/+$/, '')}/${relative}`;
    await store.put(key, await readFile(file));
    keys.push(key);
  }
  return keys.sort();
}
