import { isIPv6 } from 'node:net';
import { unsupportedRegex } from './nginx-regex.ts';
import type { Parsed } from './parse-settings.ts';

/**
 * `VIRTUAL_HOST` items in nginx `server_name` forms: exact names, leading wildcards (`*.example.com`, and
 * `.example.com`, which also matches `example.com`), trailing wildcards (`www.example.*`), regexes (`~^app\d+\.`),
 * raw IPv4 (`172.20.0.1`) and bracketed IPv6 (`[fd00::1]`) addresses. A port is never part of the item.
 */

const LABEL = '[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?';
const HOSTNAME_RE = new RegExp(`^${LABEL}(\\.${LABEL})*$`);
const IPV4_LIKE = /^\d{1,3}(\.\d{1,3}){3}$/;

const PORT_HINT = 'a port is not allowed here, use VIRTUAL_PORT (or EXTERNAL_HTTP_PORT for the port berth listens on)';

function invalid(item: string, why: string): Parsed<string> {
  return { ok: false, reason: `${JSON.stringify(item)} ${why}` };
}

function plainName(item: string, name: string): Parsed<string> {
  if (/:\d*$/.test(name) && !name.startsWith('[')) return invalid(item, `has a port: ${PORT_HINT}`);
  if (name.length > 253 || !HOSTNAME_RE.test(name)) {
    return invalid(item, "is not a valid host name (letters, digits, '-', '_' and '.' only; '*' only as a whole first or last label)");
  }
  if (IPV4_LIKE.test(name) && name.split('.').some((o) => Number(o) > 255)) return invalid(item, 'is not a valid IPv4 address');
  return { ok: true, value: name };
}

/** One `VIRTUAL_HOST` item, already trimmed: lower-cased (a regex is kept as written), trailing dot dropped. */
export function parseHostname(item: string): Parsed<string> {
  if (item.startsWith('~')) {
    const why = unsupportedRegex(item.slice(1), true);
    if (why !== undefined) return invalid(item, `is not a usable regular expression: ${why}`);
    if (/\s/.test(item)) return invalid(item, 'contains whitespace, which a server name cannot hold');
    return { ok: true, value: item };
  }
  const name = item.toLowerCase().replace(/\.$/, '');
  if (name.startsWith('[')) {
    const m = /^\[([^\]]*)\](.*)$/.exec(name);
    if (m !== null && m[2] !== '') return invalid(item, `has a port: ${PORT_HINT}`);
    if (m === null || !isIPv6(m[1] as string)) return invalid(item, 'is not a valid bracketed IPv6 address such as [fd00::1]');
    return { ok: true, value: name };
  }
  if (name.startsWith('*.')) return withWildcard(item, name.slice(2), (rest) => `*.${rest}`);
  if (name.startsWith('.')) return withWildcard(item, name.slice(1), (rest) => `.${rest}`);
  if (name.endsWith('.*')) return withWildcard(item, name.slice(0, -2), (rest) => `${rest}.*`);
  return plainName(item, name);
}

function withWildcard(item: string, rest: string, rebuild: (rest: string) => string): Parsed<string> {
  const parsed = plainName(item, rest);
  return parsed.ok ? { ok: true, value: rebuild(parsed.value) } : parsed;
}

/**
 * `VIRTUAL_HOST`: a comma-separated list, items trimmed, blanks dropped, duplicates removed, sorted. `undefined` when
 * the container does not ask to be routed (unset or blank). Any invalid item rejects the whole setting.
 */
export function parseVirtualHost(value: string | undefined): Parsed<string[]> | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) return undefined;
  const names: string[] = [];
  for (const item of items) {
    const parsed = parseHostname(item);
    if (!parsed.ok) return parsed;
    if (!names.includes(parsed.value)) names.push(parsed.value);
  }
  return { ok: true, value: names.sort() };
}
