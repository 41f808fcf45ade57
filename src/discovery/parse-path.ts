import type { PathMatch } from '../routing-table.ts';
import { unsupportedRegex } from './nginx-regex.ts';
import type { Parsed } from './parse-settings.ts';

/**
 * `VIRTUAL_PATH`, written by nginx-proxy straight after `location`: a prefix (`/api/`), a prefix that stops the
 * regex search (`^~ /static/`), an exact match (`= /health`), or a regex (`~ ^/(a|b)/`, `~*` case-insensitive).
 */
export interface ParsedPath {
  /** Whitespace-normalised: one space after a modifier (`^~ /x`, `= /x`, `~ re`, `~* re`), else the path itself. */
  readonly text: string;
  readonly match: PathMatch;
}

/** Characters that cannot appear in a prefix/exact location or a proxy_pass URI without breaking nginx syntax. */
// eslint-disable-next-line no-control-regex
const UNSAFE_URI_CHAR = /[\s;{}"'\\$#\u0000-\u001f\u007f]/;

function describeChar(c: string): string {
  if (c === '\n') return 'a newline';
  if (/\s/.test(c)) return 'whitespace';
  return JSON.stringify(c);
}

/** Why `value` cannot be a URI path for a location or VIRTUAL_DEST, or undefined when it can. */
export function unsafeUriPath(value: string): string | undefined {
  if (!value.startsWith('/')) return 'it does not start with /';
  const bad = UNSAFE_URI_CHAR.exec(value);
  return bad ? `it contains ${describeChar(bad[0])}` : undefined;
}

const MODIFIERS = [
  { modifier: '^~', kind: 'prefix-no-regex' },
  { modifier: '~*', kind: 'regex' },
  { modifier: '~', kind: 'regex' },
  { modifier: '=', kind: 'exact' },
] as const;

export const DEFAULT_PATH: ParsedPath = { text: '/', match: { kind: 'prefix', value: '/' } };

export function parsePath(raw: string | undefined): Parsed<ParsedPath> {
  const value = raw?.trim() ?? '';
  if (value === '') return { ok: true, value: DEFAULT_PATH };
  const fail = (why: string): Parsed<ParsedPath> => ({ ok: false, reason: `${JSON.stringify(value)} ${why}` });
  const m = MODIFIERS.find((x) => value.startsWith(x.modifier));
  if (m === undefined) {
    const why = unsafeUriPath(value);
    return why === undefined ? { ok: true, value: { text: value, match: { kind: 'prefix', value } } } : fail(`is not a location path: ${why}`);
  }
  const rest = value.slice(m.modifier.length).trim();
  const text = `${m.modifier} ${rest}`;
  if (m.kind === 'regex') {
    const caseInsensitive = m.modifier === '~*';
    const why = unsupportedRegex(rest, caseInsensitive);
    if (why !== undefined) return fail(`is not a usable regular expression: ${why}`);
    return { ok: true, value: { text, match: { kind: 'regex', value: rest, caseInsensitive } } };
  }
  const why = unsafeUriPath(rest);
  if (why !== undefined) return fail(`is not a location path: after ${m.modifier}, ${why}`);
  return { ok: true, value: { text, match: { kind: m.kind, value: rest } } };
}

/** `VIRTUAL_DEST`: '' (none) or a URI path replacing the part of the URI a prefix location matched. */
export function parseDest(raw: string | undefined, path: ParsedPath): Parsed<string> {
  const value = raw?.trim() ?? '';
  if (value === '') return { ok: true, value: '' };
  if (path.match.kind === 'regex') {
    // nginx refuses proxy_pass with a URI inside a regex location ("cannot have URI part").
    return { ok: false, reason: `${JSON.stringify(value)} cannot be used with the regex path ${JSON.stringify(path.text)} (nginx refuses a proxy_pass URI in a regex location)` };
  }
  const why = unsafeUriPath(value);
  return why === undefined ? { ok: true, value } : { ok: false, reason: `${JSON.stringify(value)} is not a URI path: ${why}` };
}
