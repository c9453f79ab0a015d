/**
 * The interactive loop of `weir sql` (runRepl) driven through streams: multi-line statements
 * run at `;`, `.tables` lists the registered tables, errors are printed and the loop goes on,
 * `.quit` leaves, and history is appended to the history file. And the real binary on a
 * pseudo-terminal (`script`): no query on a terminal starts the prompt, results print as tables.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { batchToJsonRows } from '@weir/delta';
import { runRepl, SqlSession } from '@weir/sql';
import { LocalStore } from '@weir/storage';
import { expect, it } from 'vitest';
import { WEIR_BIN } from '../support/cli.js';
import { REPO_ROOT, tableDir } from '../support/reference-tables.js';

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

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
it.skipIf(!hasScript)(
  'weir sql with no query on a terminal is an interactive prompt',
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-repl-tty-'));
    try {
      const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
      const command = [process.execPath, WEIR_BIN, 'sql', '--table', `t=${tableDir('drs-simple_table')}`]
        .map(quote)
        .join(' ');
      // stdin stays open until the prompt exits by itself (.quit): an early end of input would
      // make `script` end the session before the answers are printed.
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        cwd: REPO_ROOT,
        env: { ...process.env, WEIR_SQL_HISTORY: path.join(dir, 'history') },
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString('utf8');
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await new Promise<number | null>((resolve) => {
        child.on('close', (c) => resolve(c));
        child.stdin.write('.tables\nselect sum(id) as total\nfrom t;\nselect * from nope;\n.quit\n');
      });
      clearTimeout(timer);
      out = out.replaceAll('\r', '');
      expect(code, out).toBe(0);
      expect(out).toContain('weir sql — type .help for help');
      expect(out).toContain('weir> ');
      expect(out).toContain('...> ');
      expect(out).toMatch(/\nt\tfile:\/\/\S*drs-simple_table/);
      // A terminal gets the aligned table format: header, the value, the row count.
      expect(out).toMatch(/│ total │/);
      expect(out).toMatch(/│ 21\s+│/);
      expect(out).toContain('(1 row)');
      expect(out).toMatch(/error: Catalog Error: Table with name nope does not exist/);
      expect(readFileSync(path.join(dir, 'history'), 'utf8')).toContain('select sum(id) as total from t;');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  90_000,
);
