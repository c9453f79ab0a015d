/**
 * The typed errors of the predicate engine: INVALID_PREDICATE (syntax, with the 1-based column
 * of the offending text), UNKNOWN_COLUMN (naming the column and the available ones) and
 * TYPE_MISMATCH (naming the column, its type and the literal). Callers branch on `code`.
 */
import { WeirError } from '@weir/storage';

/** `text` is the predicate source when known; `pos` its 0-based offset of the problem. */
export function invalidPredicate(
  text: string | undefined,
  pos: number | undefined,
  message: string,
): WeirError {
  if (pos === undefined) {
    return new WeirError('INVALID_PREDICATE', `invalid predicate: ${message}`, {
      details: text === undefined ? {} : { predicate: text },
    });
  }
  const column = pos + 1;
  return new WeirError('INVALID_PREDICATE', `invalid predicate at column ${column}: ${message}`, {
    details: { ...(text === undefined ? {} : { predicate: text }), position: pos, column },
  });
}

const MAX_LISTED = 40;

export function unknownColumn(
  name: string,
  available: readonly string[],
  pos: number | undefined,
  why?: string,
): WeirError {
  const listed =
    available.length > MAX_LISTED
      ? `${available.slice(0, MAX_LISTED).join(', ')}, ... (${available.length - MAX_LISTED} more)`
      : available.join(', ');
  const where = pos === undefined ? '' : ` at column ${pos + 1}`;
  return new WeirError(
    'UNKNOWN_COLUMN',
    `${why ?? 'unknown column'} '${name}'${where}; available columns: ${listed || '(none)'}`,
    { details: { column: name, available: [...available], ...(pos === undefined ? {} : { position: pos }) } },
  );
}

export function typeMismatch(
  column: string,
  type: string,
  literal: string,
  reason: string,
  pos?: number,
): WeirError {
  const where = pos === undefined ? '' : ` at column ${pos + 1}`;
  return new WeirError('TYPE_MISMATCH', `column '${column}' of type ${type}${where}: ${literal} ${reason}`, {
    details: { column, type, literal, ...(pos === undefined ? {} : { position: pos }) },
  });
}
