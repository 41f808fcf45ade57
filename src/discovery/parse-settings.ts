/**
 * Parsing of the per-container settings (nginx-proxy's names). Pure; every failure is a value naming the setting,
 * so the builder can skip that container with a warning and route every other one.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const LABEL = '[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?';
const HOSTNAME_RE = new RegExp(`^${LABEL}(\\.${LABEL})*\\.?$`);
const IPV6_RE = /^\[[0-9a-f:.]+\]$/;

/** One `VIRTUAL_HOST` item, already trimmed. Returns the lower-cased name. */
export function parseHostname(item: string): Parsed<string> {
  const name = item.toLowerCase();
  if (name.startsWith('~') || name.includes('*')) {
    return { ok: false, reason: `wildcard and regular-expression host names (${JSON.stringify(item)}) are not supported yet` };
  }
  if (name.length > 253 || !(HOSTNAME_RE.test(name) || IPV6_RE.test(name))) {
    return {
      ok: false,
      reason: `${JSON.stringify(item)} is not a valid host name (letters, digits, '-', '_' and '.' only; a port is not allowed here, use VIRTUAL_PORT)`,
    };
  }
  return { ok: true, value: name.replace(/\.$/, '') };
}

/**
 * `VIRTUAL_HOST`: a comma-separated list, items trimmed, blanks dropped, duplicates removed. `undefined` when the
 * container does not ask to be routed (unset or blank). Any invalid item rejects the whole setting.
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

/** `VIRTUAL_PORT`, else nginx-proxy's rule: exactly one exposed port means that port, otherwise 80. */
export function resolvePort(value: string | undefined, exposedPorts: readonly number[]): Parsed<number> {
  const v = value?.trim();
  if (v === undefined || v === '') {
    return { ok: true, value: exposedPorts.length === 1 ? (exposedPorts[0] as number) : 80 };
  }
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) {
    return { ok: false, reason: `${JSON.stringify(value)} is not a port number from 1 to 65535` };
  }
  return { ok: true, value: Number(v) };
}
