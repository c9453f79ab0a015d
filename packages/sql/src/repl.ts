/**
 * The interactive SQL loop of `weir sql` (node:readline): statements may span lines and run when
 * a line ends with `;`; `.tables` lists the registered tables, `.help` the commands, `.quit` (or
 * `.exit`, or end of input) leaves. Ctrl-C stops a running query, clears a half-typed statement,
 * or leaves on an empty one. Line history is kept for the session and, with `historyFile`, across sessions.
 * Errors are printed and the loop goes on. How results look is the caller's (`print`).
 */
import { appendFile, readFile } from 'node:fs/promises';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { isWeirError } from '@weir/storage';
import type { SqlSession, SqlStream } from './session.js';

export interface ReplOptions {
  input: Readable;
  output: Writable;
  /** Whether input/output are a terminal (line editing, history keys). */
  terminal: boolean;
  /** Prints one result (e.g. as an aligned table). */
  print(result: SqlStream): Promise<void>;
  /** A file to load line history from and append it to. */
  historyFile?: string;
}

const HELP = [
  'Enter SQL; a statement runs when a line ends with ";".',
  'Tables are registered with --table name=<location>[@version]; name@N reads version N.',
  '.tables   list the registered tables',
  '.help     this text',
  '.quit     leave (also .exit or Ctrl-D)',
  '',
].join('\n');

async function loadHistory(file: string | undefined): Promise<string[]> {
  if (!file) return [];
  try {
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    return lines.slice(-1000).reverse(); // readline wants newest first
  } catch {
    return [];
  }
}

/** Runs the loop until `.quit` or end of input. */
export async function runRepl(session: SqlSession, options: ReplOptions): Promise<void> {
  const { output } = options;
  const history = await loadHistory(options.historyFile);
  const rl = readline.createInterface({
    input: options.input,
    output,
    terminal: options.terminal,
    history,
    historySize: 1000,
    removeHistoryDuplicates: true,
  });
  const write = (text: string) => output.write(text);
  let buffer = '';
  const prompt = () => {
    rl.setPrompt(buffer === '' ? 'weir> ' : '   ...> ');
    rl.prompt();
  };
  let done = false;
  let running = false;
  rl.on('SIGINT', () => {
    if (running) {
      session.interrupt();
      return;
    }
    if (buffer === '') {
      done = true;
      rl.close();
      return;
    }
    buffer = '';
    write('\n');
    prompt();
  });

  const run = async (sql: string) => {
    running = true;
    try {
      await options.print(await session.stream(sql));
    } catch (err) {
      const message = isWeirError(err) || err instanceof Error ? err.message : String(err);
      write(`error: ${message}\n`);
    } finally {
      running = false;
    }
    if (options.historyFile)
      await appendFile(options.historyFile, `${sql.replaceAll('\n', ' ')}\n`).catch(() => {});
  };

  write('weir sql — type .help for help\n');
  prompt();
  for await (const line of rl) {
    const trimmed = line.trim();
    if (buffer === '' && trimmed.startsWith('.')) {
      const command = trimmed.split(/\s+/)[0];
      if (command === '.quit' || command === '.exit') break;
      if (command === '.help') write(HELP);
      else if (command === '.tables') {
        const tables = session.list();
        if (tables.length === 0) write('(no tables registered)\n');
        for (const t of tables) write(`${t.name}\t${t.location}${t.pinned ? `\t(${t.pinned})` : ''}\n`);
      } else write(`unknown command ${command} (try .help)\n`);
      prompt();
      continue;
    }
    if (trimmed === '' && buffer === '') {
      prompt();
      continue;
    }
    buffer = buffer === '' ? line : `${buffer}\n${line}`;
    if (trimmed.endsWith(';')) {
      const sql = buffer;
      buffer = '';
      await run(sql);
    }
    if (done) break;
    prompt();
  }
  rl.close();
}
