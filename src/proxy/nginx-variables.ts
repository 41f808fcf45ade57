import { parseAuthorization } from './basic-auth/htpasswd.ts';

/**
 * nginx variable syntax and the request-derived variables several parts of the Node data plane evaluate: the access
 * log format (LOG_FORMAT), `hash` keys of the loadbalance label, and DEFAULT_ROOT's `return` text. Pure functions on
 * plain values; strings are "byte strings" (one char per byte, latin1), which is how node:http hands out the request
 * target and header values.
 */

export type TemplatePart = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'var'; readonly name: string };

const NAME = /[A-Za-z0-9_]/;

/**
 * Splits `text` into literal text and variables, as nginx's script compiler does: `$name` (letters, digits, `_`) or
 * `${name}`. Throws on a `$` that starts no name (nginx: "invalid variable name").
 */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c !== '$') {
      literal += c;
      i++;
      continue;
    }
    let name = '';
    let end: number;
    if (text[i + 1] === '{') {
      end = text.indexOf('}', i + 2);
      if (end === -1) throw new Error(`unclosed "\${" at position ${i + 1}`);
      name = text.slice(i + 2, end);
      end++;
    } else {
      end = i + 1;
      while (end < text.length && NAME.test(text[end] as string)) end++;
      name = text.slice(i + 1, end);
    }
    if (name === '' || ![...name].every((ch) => NAME.test(ch))) throw new Error(`invalid variable name at position ${i + 1}`);
    if (literal !== '') parts.push({ kind: 'text', text: literal });
    literal = '';
    parts.push({ kind: 'var', name: name.toLowerCase() });
    i = end;
  }
  if (literal !== '') parts.push({ kind: 'text', text: literal });
  return parts;
}

/** nginx compares `$http_x_user` with header `X-User`: case-insensitive, `_` in the variable matches `-`. */
function headerNameMatches(header: string, variable: string): boolean {
  if (header.length !== variable.length) return false;
  for (let i = 0; i < header.length; i++) {
    let h = header.charCodeAt(i);
    if (h >= 65 && h <= 90) h += 32;
    else if (h === 45) h = 95; // '-' -> '_'
    if (h !== variable.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * `$http_<name>` from a flat `[name, value, ...]` header list; `name` lower-case with `_`. Repeated headers are
 * joined with `, ` (`; ` for Cookie), as nginx 1.23+ does. Undefined when absent (nginx: "not found").
 */
export function httpHeader(raw: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (!headerNameMatches(raw[i] as string, name)) continue;
    const v = raw[i + 1] as string;
    value = value === undefined ? v : `${value}${name === 'cookie' ? '; ' : ', '}${v}`;
  }
  return value;
}

/** `$cookie_<name>`: the value of the first cookie of that name (case-insensitive, as nginx). */
export function cookieValue(raw: readonly string[], name: string): string | undefined {
  const header = httpHeader(raw, 'cookie');
  if (header === undefined) return undefined;
  for (const pair of header.split(/[;,]/)) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    if (pair.slice(0, eq).trim().toLowerCase() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/** `$arg_<name>`: the raw (not decoded) value of the first query argument of that name, case-insensitive. */
export function argValue(args: string | undefined, name: string): string | undefined {
  if (args === undefined || args === '') return undefined;
  for (const pair of args.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (key.toLowerCase() === name) return eq === -1 ? '' : pair.slice(eq + 1);
  }
  return undefined;
}

/** `$remote_user`: the user name of a Basic Authorization header, as nginx decodes it even without auth_basic. */
export function basicAuthUser(raw: readonly string[]): string | undefined {
  return parseAuthorization(httpHeader(raw, 'authorization'))?.user;
}

/** `$binary_remote_addr`: 4 (IPv4) or 16 (IPv6) address bytes, as a byte string. */
export function binaryAddress(address: string): string {
  if (address.includes(':')) return Buffer.from(ipv6Bytes(address)).toString('latin1');
  return String.fromCharCode(...address.split('.').map((p) => Number(p) & 255));
}

/** The 16 bytes of an IPv6 literal (unbracketed, possibly with an embedded IPv4 tail or a zone). */
export function ipv6Bytes(address: string): number[] {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  const groups: number[] = [];
  const tail: number[] = [];
  const [head = '', rest] = text.split('::') as [string, string | undefined];
  const toGroups = (part: string, out: number[]): void => {
    for (const g of part === '' ? [] : part.split(':')) {
      if (g.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(parseInt(g, 16) & 0xffff);
    }
  };
  toGroups(head, groups);
  if (rest !== undefined) toGroups(rest, tail);
  while (groups.length + tail.length < 8) groups.push(0);
  const bytes: number[] = [];
  for (const g of [...groups, ...tail].slice(0, 8)) bytes.push(g >> 8, g & 255);
  return bytes;
}
