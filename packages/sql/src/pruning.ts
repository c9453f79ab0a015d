/**
 * Partition pruning from a query's own WHERE clause, read from DuckDB's parsed AST
 * (`json_serialize_sql`). For each table view the query references, this finds the conjuncts of
 * the WHERE clause that constrain only that table's partition columns, and builds a statement
 * (for `json_deserialize_sql`) that evaluates exactly those conjuncts over a small relation of
 * the table's distinct partition tuples. DuckDB itself then decides which tuples can match, so
 * pruning has DuckDB's semantics (casts, NULLs, functions) by construction.
 *
 * Invariants (pruning must never change a result):
 * - Only a table referenced exactly once in the statement (CTEs and subqueries included) is
 *   pruned, and only by the WHERE of the SELECT whose FROM holds it directly or through INNER
 *   joins (a regular or cross join; never outer, semi, anti, ASOF, positional or lateral
 *   joins, which a smaller input could change), and never under TABLESAMPLE.
 * - A conjunct is used only if every column it mentions is a partition column of that table
 *   (unqualified names only when the FROM is that table alone), and it holds no subquery,
 *   parameter, star, window, lambda or volatile function, and no integer constant JSON cannot
 *   carry exactly. Every row of a file has the file's partition values, so such a conjunct is
 *   true for a row exactly when it is true for the file's tuple.
 * Pure and synchronous.
 */

type Node = Record<string, unknown>;

const VOLATILE = /random|uuid|nextval|currval|setseed|now|current|today|get_current|transaction_timestamp/i;
const BANNED_CLASSES = new Set([
  'SUBQUERY',
  'PARAMETER',
  'STAR',
  'WINDOW',
  'LAMBDA',
  'LAMBDA_REF',
  'DEFAULT',
]);

export interface PruneRequest {
  /** The view name as the AST spells it (lower-cased). */
  table: string;
  /** A `json_deserialize_sql` input: SELECT "__weir_group" FROM <partitions> AS alias WHERE .... */
  filterJson: string;
  /** The relation name the filter statement reads (the caller creates it). */
  relation: string;
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function walk(v: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(v)) for (const x of v) walk(x, visit);
  else if (isNode(v)) {
    visit(v);
    for (const x of Object.values(v)) walk(x, visit);
  }
}

function lower(v: unknown): string {
  return typeof v === 'string' ? v.toLowerCase() : '';
}

/** Names of the tables (and views) a parsed statement reads, as written. */
export function tableNamesOf(ast: unknown): string[] {
  const out: string[] = [];
  walk(ast, (n) => {
    if (n.type === 'BASE_TABLE' && typeof n.table_name === 'string') out.push(n.table_name);
  });
  return out;
}

/** BASE_TABLE nodes of the tables the statement reads, by lower-cased name. */
function baseTables(statement: unknown): Map<string, Node[]> {
  const out = new Map<string, Node[]>();
  walk(statement, (n) => {
    if (n.type !== 'BASE_TABLE') return;
    const name = lower(n.table_name);
    const list = out.get(name) ?? [];
    list.push(n);
    out.set(name, list);
  });
  return out;
}

/** Whether `target` is reachable from a FROM clause through INNER regular/cross joins only. */
function inInnerJoinTree(from: unknown, target: Node): boolean {
  if (from === target) return true;
  if (!isNode(from) || from.type !== 'JOIN') return false;
  const regular = from.ref_type === 'REGULAR' || from.ref_type === 'CROSS';
  if (!regular || from.join_type !== 'INNER') return false;
  return inInnerJoinTree(from.left, target) || inInnerJoinTree(from.right, target);
}

/** The SELECT_NODE whose FROM holds `table` directly or through joins. */
function owningSelect(statement: unknown, table: Node): { select: Node; single: boolean } | undefined {
  let found: { select: Node; single: boolean } | undefined;
  walk(statement, (n) => {
    if (found || n.type !== 'SELECT_NODE') return;
    if (n.from_table === table) found = { select: n, single: true };
    else if (inInnerJoinTree(n.from_table, table)) found = { select: n, single: false };
  });
  return found;
}

function conjuncts(where: unknown): Node[] {
  if (!isNode(where)) return [];
  if (where.type === 'CONJUNCTION_AND' && Array.isArray(where.children))
    return where.children.flatMap((c) => conjuncts(c));
  return [where];
}

function usable(conjunct: Node, alias: string, single: boolean, partitions: ReadonlySet<string>): boolean {
  let ok = true;
  let columns = 0;
  walk(conjunct, (n) => {
    if (!ok) return;
    const cls = String(n.class ?? '');
    if (BANNED_CLASSES.has(cls)) ok = false;
    else if (cls === 'FUNCTION' && VOLATILE.test(String(n.function_name ?? ''))) ok = false;
    else if (cls === 'CONSTANT' && isNode(n.value)) {
      const v = n.value.value;
      if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) ok = false;
    } else if (cls === 'COLUMN_REF') {
      const names = Array.isArray(n.column_names) ? n.column_names.map(lower) : [];
      columns++;
      if (names.length === 1) ok = single && partitions.has(names[0]!);
      else if (names.length === 2) ok = names[0] === alias && partitions.has(names[1]!);
      else ok = false;
    }
  });
  return ok && columns > 0;
}

/** Sets every query_location to 0: DuckDB writes UINT64_MAX there, which JSON numbers cannot hold. */
function scrubLocations(v: unknown): void {
  walk(v, (n) => {
    if ('query_location' in n) n.query_location = 0;
  });
}

function filterStatement(select: Node, alias: string, relation: string, where: Node[]): string {
  const whereClause: Node =
    where.length === 1
      ? where[0]!
      : { class: 'CONJUNCTION', type: 'CONJUNCTION_AND', alias: '', query_location: 0, children: where };
  const node: Node = {
    ...select,
    modifiers: [],
    cte_map: { map: [] },
    select_list: [
      {
        class: 'COLUMN_REF',
        type: 'COLUMN_REF',
        alias: '',
        query_location: 0,
        column_names: ['__weir_group'],
      },
    ],
    from_table: {
      type: 'BASE_TABLE',
      alias,
      sample: null,
      query_location: 0,
      schema_name: '',
      table_name: relation,
      column_name_alias: [],
      catalog_name: '',
      at_clause: null,
    },
    where_clause: whereClause,
    group_expressions: [],
    group_sets: [],
    aggregate_handling: 'STANDARD_HANDLING',
    having: null,
    sample: null,
    qualify: null,
  };
  const doc = { error: false, statements: [{ node, named_param_map: [] }] };
  scrubLocations(doc);
  return JSON.stringify(doc);
}

/**
 * For each table (lower-cased view name -> lower-cased partition column names), the filter to
 * evaluate over its partition tuples, when the statement has one. `ast` is the parsed output of
 * `json_serialize_sql`.
 */
export function pruneRequests(
  ast: unknown,
  tables: ReadonlyMap<string, ReadonlySet<string>>,
  relationFor: (table: string) => string,
): PruneRequest[] {
  if (!isNode(ast) || ast.error !== false || !Array.isArray(ast.statements) || ast.statements.length !== 1)
    return [];
  const statement: unknown = ast.statements[0];
  const out: PruneRequest[] = [];
  for (const [name, nodes] of baseTables(statement)) {
    const partitions = tables.get(name);
    if (!partitions || partitions.size === 0 || nodes.length !== 1) continue;
    const table = nodes[0]!;
    if (table.sample !== null || table.at_clause !== null || lower(table.schema_name) !== '') continue;
    const owner = owningSelect(statement, table);
    if (!owner || owner.select.sample !== null) continue;
    const alias = lower(table.alias) || name;
    const where = conjuncts(owner.select.where_clause).filter((c) =>
      usable(c, alias, owner.single, partitions),
    );
    if (where.length === 0) continue;
    const relation = relationFor(name);
    out.push({
      table: name,
      relation,
      filterJson: filterStatement(structuredClone(owner.select), alias, relation, structuredClone(where)),
    });
  }
  return out;
}
