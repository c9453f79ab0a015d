/**
 * The `--schema` argument: a path to a file holding a Delta schema (the protocol's
 * `schemaString` JSON, or DDL text), inline schema JSON, or a DDL string such as
 * `id BIGINT NOT NULL, amount DECIMAL(12,2), tags ARRAY<STRING>, addr STRUCT<city: STRING>`.
 *
 * The DDL parser is recursive descent over SQL/Spark type names:
 *   schema := field (',' field)* [','];  field := name [':'] type [NOT NULL | NULL] [COMMENT 'text']
 *   type   := NAME ['(' int [',' int] ')'] | ARRAY<type> | MAP<type, type> | STRUCT<[field, ...]>
 * Names are identifiers or `back-quoted` (`` `` `` for a back quote). Keywords and type names are
 * case-insensitive; column names keep their case. Array elements and map values are nullable;
 * a COMMENT goes into the field's metadata as `comment` (as Spark does).
 *
 * Invariants: every syntax error is `WeirError('INVALID_SCHEMA')` whose message says
 * `at column N` (1-based offset into the DDL text) with `details.position` (0-based); duplicate
 * column names (case-insensitive, per struct) are errors; the result is a valid `StructType`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { type DataType, parseSchema, type StructField, type StructType } from '@weir/delta';
import { WeirError } from '@weir/storage';

const PRIMITIVES: Readonly<Record<string, DataType>> = {
  bigint: { type: 'long' },
  long: { type: 'long' },
  int: { type: 'integer' },
  integer: { type: 'integer' },
  smallint: { type: 'short' },
  short: { type: 'short' },
  tinyint: { type: 'byte' },
  byte: { type: 'byte' },
  float: { type: 'float' },
  real: { type: 'float' },
  double: { type: 'double' },
  boolean: { type: 'boolean' },
  bool: { type: 'boolean' },
  string: { type: 'string' },
  varchar: { type: 'string' },
  char: { type: 'string' },
  text: { type: 'string' },
  binary: { type: 'binary' },
  date: { type: 'date' },
  timestamp: { type: 'timestamp' },
  timestamp_ltz: { type: 'timestamp' },
  timestamp_ntz: { type: 'timestamp_ntz' },
};
const DECIMAL_NAMES = new Set(['decimal', 'dec', 'numeric']);
/** Types that may take a length, e.g. VARCHAR(20): accepted and ignored (Delta has no lengths). */
const LENGTH_TYPES = new Set(['varchar', 'char']);

type TokenKind = 'ident' | 'quoted' | 'number' | 'string' | 'punct' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
}

function invalidDdl(ddl: string, pos: number, message: string): WeirError {
  return new WeirError('INVALID_SCHEMA', `invalid schema DDL at column ${pos + 1}: ${message}`, {
    details: { ddl, position: pos, column: pos + 1 },
  });
}

function tokenize(ddl: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < ddl.length) {
    const c = ddl[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(ddl.slice(i))!;
      tokens.push({ kind: 'ident', text: m[0], pos: i });
      i += m[0].length;
    } else if (/\d/.test(c)) {
      const m = /^\d+/.exec(ddl.slice(i))!;
      tokens.push({ kind: 'number', text: m[0], pos: i });
      i += m[0].length;
    } else if (c === '`' || c === "'" || c === '"') {
      // `name` (and "name"), 'comment text'; a doubled quote stands for itself.
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= ddl.length) throw invalidDdl(ddl, i, `unterminated ${c}quoted${c} text`);
        if (ddl[j] === c) {
          if (ddl[j + 1] === c) {
            text += c;
            j += 2;
            continue;
          }
          break;
        }
        text += ddl[j];
        j++;
      }
      tokens.push({ kind: c === "'" ? 'string' : 'quoted', text, pos: i });
      i = j + 1;
    } else if ('<>(),:'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, pos: i });
      i++;
    } else {
      throw invalidDdl(ddl, i, `unexpected character '${c}'`);
    }
  }
  tokens.push({ kind: 'end', text: '', pos: ddl.length });
  return tokens;
}

class DdlParser {
  private readonly tokens: Token[];
  private i = 0;

  constructor(private readonly ddl: string) {
    this.tokens = tokenize(ddl);
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    const t = this.tokens[this.i]!;
    if (t.kind !== 'end') this.i++;
    return t;
  }

  private describe(t: Token): string {
    return t.kind === 'end' ? 'the end of the text' : `'${t.text}'`;
  }

  private fail(t: Token, message: string): WeirError {
    return invalidDdl(this.ddl, t.pos, message);
  }

  private isPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }

  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.text.toLowerCase() === word;
  }

  private expectPunct(text: string, what: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== text)
      throw this.fail(t, `expected ${what}, got ${this.describe(t)}`);
  }

  private int(what: string): number {
    const t = this.next();
    if (t.kind !== 'number') throw this.fail(t, `expected ${what} (a number), got ${this.describe(t)}`);
    return Number(t.text);
  }

  parseSchema(): StructType {
    if (this.peek().kind === 'end') throw this.fail(this.peek(), 'the schema has no columns');
    const fields = this.fieldList('end');
    const t = this.peek();
    if (t.kind !== 'end')
      throw this.fail(t, `expected ',' or the end of the schema, got ${this.describe(t)}`);
    return { type: 'struct', fields };
  }

  /** Fields separated by commas until `close` ('>' of a STRUCT, or the end of the text). */
  private fieldList(close: '>' | 'end'): StructField[] {
    const fields: StructField[] = [];
    const seen = new Map<string, string>();
    const atClose = () => (close === 'end' ? this.peek().kind === 'end' : this.isPunct('>'));
    while (!atClose()) {
      const nameToken = this.peek();
      const field = this.field();
      const prior = seen.get(field.name.toLowerCase());
      if (prior !== undefined) {
        throw this.fail(nameToken, `duplicate column name ${field.name} (already defined as ${prior})`);
      }
      seen.set(field.name.toLowerCase(), field.name);
      fields.push(field);
      if (!this.isPunct(',')) break;
      this.next();
    }
    return fields;
  }

  private field(): StructField {
    const nameToken = this.next();
    if (nameToken.kind !== 'ident' && nameToken.kind !== 'quoted') {
      throw this.fail(nameToken, `expected a column name, got ${this.describe(nameToken)}`);
    }
    if (nameToken.text === '') throw this.fail(nameToken, 'a column name cannot be empty');
    if (this.isPunct(':')) this.next();
    const type = this.type();
    let nullable = true;
    const metadata: Record<string, unknown> = {};
    for (;;) {
      if (this.isKeyword('not')) {
        this.next();
        const t = this.next();
        if (t.kind !== 'ident' || t.text.toLowerCase() !== 'null')
          throw this.fail(t, `expected NULL after NOT, got ${this.describe(t)}`);
        nullable = false;
      } else if (this.isKeyword('null')) {
        this.next();
      } else if (this.isKeyword('comment')) {
        this.next();
        const t = this.next();
        if (t.kind !== 'string') throw this.fail(t, `expected 'comment text', got ${this.describe(t)}`);
        metadata.comment = t.text;
      } else break;
    }
    return { name: nameToken.text, type, nullable, metadata };
  }

  private type(): DataType {
    const t = this.next();
    if (t.kind !== 'ident') throw this.fail(t, `expected a type, got ${this.describe(t)}`);
    const name = t.text.toLowerCase();
    if (name === 'array') {
      this.expectPunct('<', "'<' after ARRAY");
      const elementType = this.type();
      this.expectPunct('>', "'>' closing ARRAY<");
      return { type: 'array', elementType, containsNull: true };
    }
    if (name === 'map') {
      this.expectPunct('<', "'<' after MAP");
      const keyType = this.type();
      this.expectPunct(',', "',' between the key and value types of MAP<");
      const valueType = this.type();
      this.expectPunct('>', "'>' closing MAP<");
      return { type: 'map', keyType, valueType, valueContainsNull: true };
    }
    if (name === 'struct') {
      this.expectPunct('<', "'<' after STRUCT");
      const open = this.peek();
      const fields = this.fieldList('>');
      if (fields.length === 0) throw this.fail(open, 'a STRUCT needs at least one field');
      this.expectPunct('>', "',' or '>' closing STRUCT<");
      return { type: 'struct', fields };
    }
    if (DECIMAL_NAMES.has(name)) return this.decimal();
    const primitive = PRIMITIVES[name];
    if (!primitive) {
      const known = [...Object.keys(PRIMITIVES), 'decimal(p,s)', 'array<t>', 'map<k,v>', 'struct<...>'];
      throw this.fail(t, `unknown type ${t.text} (known: ${known.map((k) => k.toUpperCase()).join(', ')})`);
    }
    if (LENGTH_TYPES.has(name) && this.isPunct('(')) {
      this.next();
      this.int(`the length of ${t.text.toUpperCase()}`);
      this.expectPunct(')', `')' closing ${t.text.toUpperCase()}(`);
    }
    return primitive;
  }

  private decimal(): DataType {
    let precision = 10;
    let scale = 0;
    if (this.isPunct('(')) {
      this.next();
      const pt = this.peek();
      precision = this.int('the precision of DECIMAL');
      if (this.isPunct(',')) {
        this.next();
        scale = this.int('the scale of DECIMAL');
      }
      this.expectPunct(')', "')' closing DECIMAL(");
      if (precision < 1 || precision > 38)
        throw this.fail(pt, `DECIMAL precision must be 1..38, got ${precision}`);
      if (scale > precision)
        throw this.fail(pt, `DECIMAL scale ${scale} is larger than its precision ${precision}`);
    }
    return { type: 'decimal', precision, scale };
  }
}

/** Parses a DDL column list (see the module header). */
export function parseDdl(ddl: string): StructType {
  return new DdlParser(ddl).parseSchema();
}

/** A schema from JSON text (a Delta schema: `{"type":"struct","fields":[...]}`). */
function schemaFromJson(text: string, file: string): StructType {
  return parseSchema(text, { file });
}

/**
 * The `--schema` value as a Delta schema: a file (JSON schema or DDL text), inline JSON
 * (starting with `{`), or DDL.
 */
export function loadSchemaArg(arg: string): StructType {
  const trimmed = arg.trim();
  if (trimmed.startsWith('{')) return schemaFromJson(trimmed, '--schema');
  if (existsSync(arg) && statSync(arg).isFile()) {
    const text = readFileSync(arg, 'utf8').trim();
    if (text.startsWith('{')) return schemaFromJson(text, arg);
    try {
      return parseDdl(text);
    } catch (err) {
      if (err instanceof WeirError)
        throw new WeirError(err.code, `${arg}: ${err.message}`, { details: { ...err.details, file: arg } });
      throw err;
    }
  }
  if (/\.json$/i.test(trimmed)) {
    throw new WeirError('INVALID_ARGUMENT', `--schema: the file ${arg} does not exist`, {
      details: { file: arg },
    });
  }
  return parseDdl(arg);
}
