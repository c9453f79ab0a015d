/**
 * Creating an empty table: version 0 with protocol, metaData and commitInfo. The schema is a
 * Delta schema or an Arrow schema. An existing table is an error (`ifExists: 'error'`, the
 * default) or left untouched (`'ignore'`); two concurrent creators: exactly one wins, the other
 * gets TABLE_ALREADY_EXISTS.
 */

import { type ObjectStore, WeirError } from '@weir/storage';
import { Schema } from 'apache-arrow';
import { arrowSchemaToDelta } from '../schema/arrow.js';
import type { StructType } from '../schema/types.js';
import { Transaction } from '../txn/transaction.js';
import { assertEmptyLocation, newTableActions, tryLoadSnapshot } from './write-table.js';

export interface CreateTableOptions {
  schema: StructType | Schema;
  partitionColumns?: readonly string[];
  properties?: Readonly<Record<string, string>>;
  name?: string;
  description?: string;
  ifExists?: 'error' | 'ignore';
  now?: () => number;
}

export interface CreateTableResult {
  version: number;
  created: boolean;
}

export async function createTable(
  store: ObjectStore,
  options: CreateTableOptions,
): Promise<CreateTableResult> {
  const table = store.root;
  const existing = await tryLoadSnapshot(store);
  if (existing) {
    if (options.ifExists === 'ignore') return { version: existing.version, created: false };
    throw new WeirError('TABLE_ALREADY_EXISTS', `${table} already exists (version ${existing.version})`, {
      details: { table, version: existing.version },
    });
  }
  await assertEmptyLocation(store);
  const schema = options.schema instanceof Schema ? arrowSchemaToDelta(options.schema) : options.schema;
  const now = options.now ?? Date.now;
  const partitionColumns = options.partitionColumns ?? [];
  const { metadata, protocol } = newTableActions(table, {
    schema,
    partitionColumns,
    properties: options.properties ?? {},
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    now: now(),
  });
  const txn = Transaction.forNewTable(store, {
    operation: 'CREATE TABLE',
    operationParameters: {
      isManaged: 'false',
      description: options.description ?? null,
      partitionBy: JSON.stringify(partitionColumns),
      properties: JSON.stringify(options.properties ?? {}),
    },
    now,
  });
  txn.updateProtocol(protocol).updateMetadata(metadata);
  try {
    const result = await txn.commit();
    return { version: result.version, created: true };
  } catch (err) {
    if (err instanceof WeirError && err.code === 'TABLE_ALREADY_EXISTS' && options.ifExists === 'ignore') {
      return { version: 0, created: false };
    }
    throw err;
  }
}
