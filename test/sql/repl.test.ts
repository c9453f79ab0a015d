/**
 * The interactive loop of `weir sql` (runRepl) driven through streams: multi-line statements
 * run at `;`, `.tables` lists the registered tables, errors are printed and the loop goes on,
 * `.quit` leaves, and history is appended to the history file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { batchToJsonRows } from '@weir/delta';
import { runRepl, SqlSession } from '@weir/sql';
import { LocalStore } from '@weir/storage';
import { expect, it } from 'vitest';
import { tableDir } from '../support/reference-tables.js';

it('runs statements at ";", lists tables, survives errors, quits', async () => {
  const session = await SqlSession.create({
    tables: {
      t: new LocalStore(tableDir('dat-basic_append')),
      old: { store: new LocalStore(tableDir('dat-basic_append')), version: 0 },
    },
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-repl-'));
  const historyFile = path.join(dir, 'history');
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: string[] = [];
  output.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  const printed: unknown[] = [];
  try {
    const done = runRepl(session, {
      input,
      output,
      terminal: false,
      historyFile,
      print: async (result) => {
        for await (const b of result.batches) printed.push(...batchToJsonRows(b));
      },
    });
    input.write('.tables\n');
    input.write('select count(*) as n\n');
    input.write('from t@0;\n');
    input.write('select * from missing;\n');
    input.write('.nope\n');
    input.write('select count(*) as n from old;\n');
    input.write('.quit\n');
    input.write('select 1;\n'); // after .quit: never runs
    await done;
    const text = chunks.join('');
    expect(text).toContain('weir> ');
    expect(text).toContain('...> ');
    expect(text).toMatch(/\bt\tfile:\/\/\S*dat-basic_append\/delta\n/);
    expect(text).toMatch(/\nold\tfile:\/\/\S*\t\(version 0\)\n/);
    expect(text).toMatch(/error: Catalog Error: Table with name missing does not exist/);
    expect(text).toContain('unknown command .nope');
    expect(printed).toEqual([{ n: 3 }, { n: 3 }]);
    expect(readFileSync(historyFile, 'utf8').split('\n').filter(Boolean)).toEqual([
      'select count(*) as n from t@0;',
      'select * from missing;',
      'select count(*) as n from old;',
    ]);
  } finally {
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('a session refuses queries after close and ends at end of input', async () => {
  const session = await SqlSession.create();
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume();
  const done = runRepl(session, { input, output, terminal: false, print: async () => {} });
  input.end('select 1;\n');
  await done;
  await session.close();
  await expect(session.stream('select 1')).rejects.toMatchObject({ code: 'SQL_CLOSED' });
});
