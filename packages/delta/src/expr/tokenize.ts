/**
 * The tokenizer of the predicate language. Tokens carry their 0-based source offset for error
 * messages. Identifiers are bare (`[A-Za-z_][A-Za-z0-9_$]*`) or backtick-quoted (a doubled
 * backtick escapes one); keywords are bare identifiers compared case-insensitively by the
 * parser, so a quoted identifier is never a keyword. Numbers are unsigned (the parser applies
 * a leading sign); strings are single-quoted with '' as the escape for a quote.
 */
import { invalidPredicate } from './errors.js';

export type TokenType = 'ident' | 'quotedIdent' | 'number' | 'string' | 'binary' | 'op' | 'punct' | 'eof';

export interface Token {
  readonly type: TokenType;
  /** Identifier name, unescaped string content, number text, hex digits, or the operator. */
  readonly value: string;
  readonly pos: number;
  /** For numbers: whether the text has a fraction or exponent. */
  readonly isDecimal?: boolean;
}

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isIdentPart(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9') || c === '$';
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

const TWO_CHAR_OPS = new Set(['<=', '>=', '<>', '!=', '==']);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if ((c === 'x' || c === 'X') && text[i + 1] === "'") {
      const end = text.indexOf("'", i + 2);
      if (end < 0) throw invalidPredicate(text, start, 'unterminated binary literal');
      const hex = text.slice(i + 2, end);
      if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) {
        throw invalidPredicate(
          text,
          start,
          `invalid binary literal X'${hex}': expected an even number of hex digits`,
        );
      }
      tokens.push({ type: 'binary', value: hex, pos: start });
      i = end + 1;
      continue;
    }
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(text[i]!)) i++;
      tokens.push({ type: 'ident', value: text.slice(start, i), pos: start });
      continue;
    }
    if (isDigit(c)) {
      while (isDigit(text[i])) i++;
      let isDecimal = false;
      if (text[i] === '.' && isDigit(text[i + 1])) {
        isDecimal = true;
        i++;
        while (isDigit(text[i])) i++;
      }
      if (text[i] === 'e' || text[i] === 'E') {
        const sign = text[i + 1] === '+' || text[i + 1] === '-' ? 1 : 0;
        if (isDigit(text[i + 1 + sign])) {
          isDecimal = true;
          i += 1 + sign;
          while (isDigit(text[i])) i++;
        }
      }
      if (i < n && isIdentPart(text[i]!)) {
        throw invalidPredicate(text, start, `invalid number '${text.slice(start, i + 1)}'`);
      }
      tokens.push({ type: 'number', value: text.slice(start, i), pos: start, isDecimal });
      continue;
    }
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        const end = text.indexOf("'", i);
        if (end < 0) throw invalidPredicate(text, start, 'unterminated string literal');
        value += text.slice(i, end);
        if (text[end + 1] === "'") {
          value += "'";
          i = end + 2;
        } else {
          i = end + 1;
          break;
        }
      }
      tokens.push({ type: 'string', value, pos: start });
      continue;
    }
    if (c === '`') {
      let value = '';
      i++;
      for (;;) {
        const end = text.indexOf('`', i);
        if (end < 0) throw invalidPredicate(text, start, 'unterminated quoted identifier');
        value += text.slice(i, end);
        if (text[end + 1] === '`') {
          value += '`';
          i = end + 2;
        } else {
          i = end + 1;
          break;
        }
      }
      if (value === '') throw invalidPredicate(text, start, 'empty quoted identifier');
      tokens.push({ type: 'quotedIdent', value, pos: start });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (TWO_CHAR_OPS.has(two)) {
      tokens.push({ type: 'op', value: two, pos: start });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      tokens.push({ type: 'op', value: c, pos: start });
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === '.' || c === '-' || c === '+') {
      tokens.push({ type: 'punct', value: c, pos: start });
      i++;
      continue;
    }
    throw invalidPredicate(text, start, `unexpected character '${c}'`);
  }
  tokens.push({ type: 'eof', value: '', pos: n });
  return tokens;
}
