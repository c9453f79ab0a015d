/**
 * Table names in SQL text: which names a table may be registered under, `--table
 * name=<uri>[@version]` specs, and time travel in the query text (`name@version`).
 *
 * `events@3` in a query means version 3 of the table registered as `events`. DuckDB's parser
 * has no such syntax, so the text is rewritten first: an unquoted registered name followed
 * directly by `@<digits>` becomes the quoted identifier `"events@3"`, the name of the view
 * that serves that version (writing `"events@3"` directly works too). String literals, quoted
 * identifiers and comments are left alone. Names are matched case-insensitively, as DuckDB
 * matches identifiers. Pure and synchronous.
 */
import { WeirError } from '@weir/storage';
import { quoteIdent } from './duck-types.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws INVALID_TABLE_NAME unless `name` is a plain SQL identifier not reserved by Weir. */
export function assertTableName(name: string): void {
  if (!NAME.test(name) || name.toLowerCase().startsWith('__weir')) {
    throw new WeirError(
      'INVALID_TABLE_NAME',
      `table name ${JSON.stringify(name)} must be a plain identifier (letters, digits, _; not starting with a digit or __weir)`,
      { details: { name } },
    );
  }
}

export interface TableSpec {
  name: string;
  location: string;
  version?: number;
}

/** Parses `name=<uri>[@version]` (the CLI's --table). */
export function parseTableSpec(text: string): TableSpec {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) {
    throw new WeirError('INVALID_ARGUMENT', `--table takes name=<table location>[@version], got ${text}`, {
      details: { value: text },
    });
  }
  const name = text.slice(0, eq).trim();
  assertTableName(name);
  let location = text.slice(eq + 1).trim();
  const at = /@(\d+)$/.exec(location);
  let version: number | undefined;
  if (at) {
    version = Number(at[1]);
    location = location.slice(0, at.index);
  }
  return { name, location, ...(version !== undefined ? { version } : {}) };
}

/** A view name `base@version` split into its parts (version undefined for a plain name). */
export function splitViewName(viewName: string): { base: string; version?: number } {
  const m = /^(.*)@(\d+)$/.exec(viewName);
  if (!m) return { base: viewName };
  return { base: m[1]!, version: Number(m[2]) };
}

/** Rewrites `name@N` (unquoted, `name` registered) into `"name@N"`; see the module comment. */
export function rewriteTimeTravel(sql: string, registered: ReadonlySet<string>): string {
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && next === '-') {
      const j = sql.indexOf('\n', i);
      const end = j < 0 ? n : j;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '/' && next === '*') {
      const j = sql.indexOf('*/', i + 2);
      const end = j < 0 ? n : j + 2;
      out += sql.slice(i, end);
      i = end;
    } else if (/[A-Za-z_]/.test(c) && (i === 0 || !/[A-Za-z0-9_$.]/.test(sql[i - 1]!))) {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i))!;
      const word = m[0];
      const at = /^@(\d+)(?![A-Za-z0-9_])/.exec(sql.slice(i + word.length));
      if (at && registered.has(word.toLowerCase())) {
        out += quoteIdent(`${word}@${at[1]}`);
        i += word.length + at[0].length;
      } else {
        out += word;
        i += word.length;
      }
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
