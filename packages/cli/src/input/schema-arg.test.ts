import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { typeToString } from '@weir/delta';
import { WeirError } from '@weir/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSchemaArg, parseDdl } from './schema-arg.js';

function types(ddl: string): string[] {
  return parseDdl(ddl).fields.map(
    (f) => `${f.name}: ${typeToString(f.type)}${f.nullable ? '' : ' NOT NULL'}`,
  );
}

function ddlError(ddl: string): WeirError {
  try {
    parseDdl(ddl);
  } catch (err) {
    if (err instanceof WeirError) return err;
    throw err;
  }
  throw new Error(`no error for ${ddl}`);
}

describe('parseDdl', () => {
  it('maps SQL and Spark type names', () => {
    expect(
      types(
        'a BIGINT, b long, c INT, d Integer, e SMALLINT, f SHORT, g TINYINT, h BYTE, i FLOAT, j REAL, k DOUBLE, ' +
          'l BOOLEAN, m STRING, n VARCHAR(20), o TEXT, p BINARY, q DATE, r TIMESTAMP, s TIMESTAMP_NTZ, t DECIMAL(12,2), ' +
          'u DECIMAL, v NUMERIC(5)',
      ),
    ).toEqual([
      'a: long',
      'b: long',
      'c: integer',
      'd: integer',
      'e: short',
      'f: short',
      'g: byte',
      'h: byte',
      'i: float',
      'j: float',
      'k: double',
      'l: boolean',
      'm: string',
      'n: string',
      'o: string',
      'p: binary',
      'q: date',
      'r: timestamp',
      's: timestamp_ntz',
      't: decimal(12,2)',
      'u: decimal(10,0)',
      'v: decimal(5,0)',
    ]);
  });

  it('parses nested types, NOT NULL, comments and quoted names', () => {
    const schema = parseDdl(
      "id BIGINT NOT NULL, tags ARRAY<STRING>, attrs MAP<STRING,STRING>, addr STRUCT<city: STRING, zip INT NOT NULL>, `odd name` INT COMMENT 'it''s odd',",
    );
    expect(
      schema.fields.map((f) => `${f.name}: ${typeToString(f.type)}${f.nullable ? '' : ' NOT NULL'}`),
    ).toEqual([
      'id: long NOT NULL',
      'tags: array<string>',
      'attrs: map<string,string>',
      'addr: struct<city:string,zip:integer>',
      'odd name: integer',
    ]);
    const addr = schema.fields[3]!.type;
    expect(addr.type === 'struct' && addr.fields[1]!.nullable).toBe(false);
    expect(schema.fields[4]!.metadata).toEqual({ comment: "it's odd" });
    expect(types('a ARRAY<STRUCT<x: MAP<INT, ARRAY<DECIMAL(3,1)>>>>')).toEqual([
      'a: array<struct<x:map<integer,array<decimal(3,1)>>>>',
    ]);
  });

  it.each([
    ['id INT, x FOO', 11, 'unknown type FOO'],
    ['id INT, x DECIMAL(12,', 22, 'expected the scale of DECIMAL'],
    ['id INT x INT', 8, "expected ',' or the end"],
    ['a ARRAY<INT', 12, "'>' closing ARRAY<"],
    ['a MAP<INT>', 10, "',' between the key and value types"],
    ['a STRUCT<>', 10, 'at least one field'],
    ['a INT, A STRING', 8, 'duplicate column name A'],
    ['a DECIMAL(40,2)', 11, 'precision must be 1..38'],
    ['a DECIMAL(5,6)', 11, 'scale 6 is larger'],
    ['a INT NOT', 10, 'expected NULL after NOT'],
    ['a INT; DROP', 6, "unexpected character ';'"],
    ["a INT COMMENT 'x", 15, 'unterminated'],
    ['', 1, 'no columns'],
    ['5 INT', 1, 'expected a column name'],
  ])('%j fails at column %i', (ddl, column, message) => {
    const err = ddlError(ddl);
    expect(err.code).toBe('INVALID_SCHEMA');
    expect(err.message).toContain(`at column ${column}:`);
    expect(err.message).toContain(message);
    expect(err.details.position).toBe(column - 1);
  });
});

describe('loadSchemaArg', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-schema-arg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a JSON schema file, a DDL file, inline JSON and DDL', () => {
    const json = path.join(dir, 'schema.json');
    writeFileSync(
      json,
      JSON.stringify({
        type: 'struct',
        fields: [{ name: 'id', type: 'long', nullable: false, metadata: {} }],
      }),
    );
    expect(loadSchemaArg(json).fields[0]).toEqual({
      name: 'id',
      type: { type: 'long' },
      nullable: false,
      metadata: {},
    });
    expect(loadSchemaArg(readFileSync(json, 'utf8')).fields[0]!.name).toBe('id');
    const ddl = path.join(dir, 'schema.sql');
    writeFileSync(ddl, 'id BIGINT,\n  name STRING\n');
    expect(loadSchemaArg(ddl).fields.map((f) => f.name)).toEqual(['id', 'name']);
    expect(loadSchemaArg('x DATE').fields[0]!.type).toEqual({ type: 'date' });
  });

  it('names the file of a bad schema and a missing .json file', () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(
      bad,
      '{"type":"struct","fields":[{"name":"a","type":"nope","nullable":true,"metadata":{}}]}',
    );
    expect(() => loadSchemaArg(bad)).toThrow(/bad\.json.*nope/);
    expect(() => loadSchemaArg(path.join(dir, 'missing.json'))).toThrow(/missing\.json does not exist/);
    const badDdl = path.join(dir, 'bad.sql');
    writeFileSync(badDdl, 'a INT,, b');
    expect(() => loadSchemaArg(badDdl)).toThrow(/bad\.sql: invalid schema DDL at column 7/);
  });
});
