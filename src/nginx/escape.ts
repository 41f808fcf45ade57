import { isIP } from 'node:net';
import { BerthError } from '../errors.ts';

/**
 * Escaping for nginx configuration syntax (Eta's `escapeFunction`). Eta's default escaper targets HTML, which is
 * wrong here: `&` would become `&amp;` and `;` or `{` would pass through and end a directive or open a block.
 *
 * nginx treats a double-quoted token exactly like a bare one, so a value with spaces, `;`, `{`, `}`, `#` or quotes
 * is written quoted, with `"` and `\` backslash-escaped. Two things cannot be expressed safely at all: `$`
 * (nginx expands variables even inside quotes, and has no escape for it) and control characters (newlines).
 * Those throw: the model layer is meant to have rejected such values already, so reaching this is a bug or a
 * custom template interpolating something it should not.
 */
const BARE_SAFE = /^[A-Za-z0-9_.:/\-[\]*@%+=,~^!?&|()<>]+$/;
// eslint-disable-next-line no-control-regex
const NEVER_SAFE = /[$\u0000-\u001f\u007f]/;

export function nginxEscape(value: unknown): string {
  const s = String(value);
  if (BARE_SAFE.test(s)) return s;
  if (NEVER_SAFE.test(s)) {
    throw new BerthError('ERR_TEMPLATE_INVALID', `value ${JSON.stringify(s)} cannot be written safely into nginx config`);
  }
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Why a host name cannot be written into `server_name` / `upstream` / an include path, or undefined if it can. */
export function unsafeHostname(hostname: string): string | undefined {
  if (hostname === '') return 'it is empty';
  // Letters, digits, `_`, `-`, `.`, wildcards, and `[`, `]`, `:` for raw IPv6 hosts. Everything else (notably
  // `;`, `{`, `}`, quotes, `\`, `$`, whitespace, `#`) would end a directive, open a block or expand a variable.
  const bad = /[^A-Za-z0-9_.*\-[\]:]/.exec(hostname);
  return bad ? `it contains ${describeChar(bad[0])}` : undefined;
}

/** Why a location path cannot be written after `location`, or undefined if it can. */
export function unsafePath(path: string): string | undefined {
  if (!path.startsWith('/')) return 'it does not start with /';
  // eslint-disable-next-line no-control-regex
  const bad = /[\s;{}"'\\$#\u0000-\u001f\u007f]/.exec(path);
  return bad ? `it contains ${describeChar(bad[0])}` : undefined;
}

/** Why an upstream address/port cannot be written in `server ip:port;`, or undefined if it can. */
export function unsafeAddress(address: string, port: number): string | undefined {
  if (isIP(address) === 0) return `address ${JSON.stringify(address)} is not an IP literal`;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `port ${String(port)} is not from 1 to 65535`;
  return undefined;
}

/** `ip:port`, IPv6 bracketed, as nginx's `server` directive wants it. */
export function formatServerAddress(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Text safe inside a `#` comment line: anything unusual becomes `_`. */
export function commentSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9_.:/\-[\]*@+=,]/g, '_');
}

/** A literal file path for `include`: glob characters are backslash-escaped so nginx does not expand them. */
export function includeLiteral(path: string): string {
  return path.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

function describeChar(c: string): string {
  if (c === '\n') return 'a newline';
  if (/\s/.test(c)) return 'whitespace';
  return JSON.stringify(c);
}
