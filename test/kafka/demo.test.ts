/**
 * `weir demo` (the README's first command) end to end through the real binary, shortened: the
 * embedded broker, the producer, continuous ingest, the summaries, and tables left on disk that
 * hold exactly what was sent (good messages in the table, malformed ones as dead letters).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadSnapshot } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { afterAll, expect, it } from 'vitest';
import { WEIR_BIN } from '../support/cli.js';
import { REPO_ROOT } from '../support/reference-tables.js';
import { tableRows, tempDir } from './support.js';

const t = tempDir('weir-demo-test-');
afterAll(() => t.remove());

it('streams, summarises with SQL and leaves the tables on disk', async () => {
  const r = spawnSync(
    process.execPath,
    [WEIR_BIN, 'demo', '--duration', '5', '--rate', '4000', '--dir', t.dir],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 180_000,
    },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  for (const section of [
    '1. Broker',
    '2. Table',
    '3. Stream',
    '4. The table at version',
    '5. SQL on the table',
    'Transactions per country',
    'Dead letters',
  ]) {
    expect(r.stdout).toContain(section);
  }
  const sent = Number(/streamed ([\d,]+) messages/.exec(r.stdout)![1]!.replaceAll(',', ''));
  expect(sent).toBeGreaterThan(1000);
  const table = new LocalStore(path.join(t.dir, 'transactions'));
  const snapshot = await loadSnapshot(table);
  let rows = 0;
  for (const f of snapshot.files()) rows += Number(JSON.parse(f.stats ?? '{}').numRecords);
  const dead = await tableRows(new LocalStore(path.join(t.dir, 'transactions_dead_letters')));
  // Every 2,000th message is malformed on purpose.
  expect(dead.length).toBe(Math.floor(sent / 2000));
  expect(rows + dead.length).toBe(sent);
  expect(snapshot.partitionColumns).toEqual(['day']);
  expect(r.stdout).toContain(`Tables are in ${t.dir}`);
}, 240_000);
