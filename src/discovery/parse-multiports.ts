import { parseDocument } from 'yaml';
import type { UpstreamProto } from '../routing-table.ts';
import { parseHostname } from './parse-host.ts';
import { DEFAULT_PATH, parseDest, parsePath, type ParsedPath } from './parse-path.ts';
import { parsePort, parseProto, type Parsed } from './parse-settings.ts';

/**
 * `VIRTUAL_HOST_MULTIPORTS`: YAML (JSON is YAML) mapping each host name to null or to
 * `{ external_http_port?, external_https_port?, "<path>": null | { port?, proto?, dest? } }`. Only keys starting with
 * `/` are paths; a host without paths means `{ "/": {} }`. Duplicate keys make the whole value invalid (as in
 * nginx-proxy). Unknown keys are refused, naming them, rather than ignored.
 */
export interface MultiportsPath {
  readonly path: ParsedPath;
  /** undefined: the container's default port rule (one exposed port, else 80). */
  readonly port: number | undefined;
  readonly proto: UpstreamProto | undefined;
  readonly dest: string | undefined;
}

export interface MultiportsHost {
  readonly hostname: string;
  readonly httpPort: number | undefined;
  /** `external_https_port`: TLS scope, accepted but not applied yet (the builder warns). */
  readonly httpsPort: number | undefined;
  readonly paths: readonly MultiportsPath[];
}

type Fail = { ok: false; reason: string };
const fail = (reason: string): Fail => ({ ok: false, reason });

/** A YAML value for a message: never throws (aliases can make values circular, which JSON.stringify refuses). */
function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object' && v !== null) return 'a map';
  return typeof v === 'string' ? JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}...` : v) : String(v);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function port(v: unknown, where: string): Parsed<number> {
  const parsed = typeof v === 'number' || typeof v === 'string' ? parsePort(String(v)) : undefined;
  return parsed?.ok ? parsed : fail(`${where} is ${describe(v)}, not a port number from 1 to 65535`);
}

function parsePathEntry(host: string, key: string, value: unknown): Parsed<MultiportsPath> {
  const where = `host ${JSON.stringify(host)}, path ${JSON.stringify(key)}`;
  const path = parsePath(key);
  if (!path.ok) return fail(`${where}: ${path.reason}`);
  if (value !== null && !isMap(value)) return fail(`${where}: expected a map of port, proto, dest (or nothing), got ${describe(value)}`);
  const entry = value ?? {};
  const unknown = Object.keys(entry).filter((k) => !['port', 'proto', 'dest'].includes(k));
  if (unknown.length > 0) return fail(`${where}: unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')} (expected port, proto, dest)`);
  let p: number | undefined;
  if (entry['port'] !== undefined && entry['port'] !== null) {
    const parsed = port(entry['port'], `${where}: port`);
    if (!parsed.ok) return parsed;
    p = parsed.value;
  }
  let proto: UpstreamProto | undefined;
  if (entry['proto'] !== undefined && entry['proto'] !== null) {
    const parsed = parseProto(String(entry['proto']));
    if (!parsed.ok) return fail(`${where}: proto ${parsed.reason}`);
    proto = parsed.value;
  }
  let dest: string | undefined;
  if (entry['dest'] !== undefined && entry['dest'] !== null) {
    const parsed = parseDest(String(entry['dest']), path.value);
    if (!parsed.ok) return fail(`${where}: dest ${parsed.reason}`);
    dest = parsed.value;
  }
  return { ok: true, value: { path: path.value, port: p, proto, dest } };
}

function parseHostEntry(key: string, value: unknown): Parsed<MultiportsHost> {
  const name = parseHostname(key.trim());
  if (!name.ok) return fail(`host ${name.reason}`);
  const where = `host ${JSON.stringify(key)}`;
  if (value !== null && !isMap(value)) return fail(`${where}: expected a map of paths (or nothing), got ${describe(value)}`);
  const entry = value ?? {};
  let httpPort: number | undefined;
  let httpsPort: number | undefined;
  const paths: MultiportsPath[] = [];
  for (const [k, v] of Object.entries(entry)) {
    if (k === 'external_http_port' || k === 'external_https_port') {
      const parsed = port(v, `${where}: ${k}`);
      if (!parsed.ok) return parsed;
      if (k === 'external_http_port') httpPort = parsed.value;
      else httpsPort = parsed.value;
    } else if (k.startsWith('/')) {
      const parsed = parsePathEntry(key, k, v);
      if (!parsed.ok) return parsed;
      if (paths.some((p) => p.path.text === parsed.value.path.text)) return fail(`${where}: path ${JSON.stringify(k)} is listed twice`);
      paths.push(parsed.value);
    } else {
      return fail(`${where}: unknown key ${JSON.stringify(k)} (expected external_http_port, external_https_port, or a path starting with /)`);
    }
  }
  if (paths.length === 0) paths.push({ path: DEFAULT_PATH, port: undefined, proto: undefined, dest: undefined });
  return { ok: true, value: { hostname: name.value, httpPort, httpsPort, paths } };
}

/** Hosts sorted by name, each with its paths in the order written. */
export function parseMultiports(text: string): Parsed<MultiportsHost[]> {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const [error] = doc.errors;
  if (error !== undefined) return fail(`is not valid YAML: ${(error.message.split('\n')[0] ?? '').replace(/:$/, '')}`);
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return fail(`is not usable YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isMap(root)) return fail(`must be a YAML or JSON map of host names, got ${describe(root)}`);
  const hosts: MultiportsHost[] = [];
  for (const [key, value] of Object.entries(root)) {
    const parsed = parseHostEntry(key, value);
    if (!parsed.ok) return parsed;
    if (hosts.some((h) => h.hostname === parsed.value.hostname)) return fail(`host ${JSON.stringify(key)} is listed twice`);
    hosts.push(parsed.value);
  }
  if (hosts.length === 0) return fail('lists no host');
  return { ok: true, value: hosts.sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0)) };
}
