import type { NginxModel } from './nginx-model.ts';

/**
 * Maps nginx's `... in <file>:<line>` back to what berth rendered: the server/upstream block (hence host and
 * containers) of the generated file, or the snippet file a user supplied, so the error log says who caused it.
 */

export interface NginxErrorCulprit {
  /** File and line nginx named, if it named one. */
  readonly file: string | undefined;
  readonly line: number | undefined;
  /** `generated`, `snippet` (vhost.d / conf.d / proxy.conf file), or `other` (main config, unknown). */
  readonly kind: 'generated' | 'snippet' | 'other';
  readonly hosts: readonly string[];
  readonly containers: readonly string[];
  /** The offending generated line, when the error is in the generated file. */
  readonly source: string | undefined;
}

const LOCATION_RE = / in (\S+):(\d+)\s*$/m;

/** The first top-level block header (`server {`, `upstream x {`, ...) enclosing `lineNo` (1-based), and its lines. */
function enclosingBlock(lines: readonly string[], lineNo: number): readonly string[] {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < lines.length && i < lineNo; i++) {
    const code = (lines[i] ?? '').replace(/#.*$/, '').replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '');
    for (const ch of code) {
      if (ch === '{') {
        if (depth === 0) start = i;
        depth++;
      } else if (ch === '}') {
        depth = Math.max(0, depth - 1);
      }
    }
    // The block closed on or before the line nginx named, and nothing opened since: not inside a block.
    if (depth === 0 && i < lineNo - 1) start = -1;
  }
  if (start < 0) return [];
  let end = start;
  let d = 0;
  for (let i = start; i < lines.length; i++) {
    for (const ch of (lines[i] ?? '').replace(/#.*$/, '')) d += ch === '{' ? 1 : ch === '}' ? -1 : 0;
    end = i;
    if (d <= 0 && i > start) break;
  }
  return lines.slice(start, end + 1);
}

function hostsOfBlock(block: readonly string[], model: NginxModel): string[] {
  const hosts = new Set<string>();
  for (const line of block) {
    const serverName = /^\s*server_name\s+(.+);\s*$/.exec(line);
    if (serverName?.[1] !== undefined) {
      // A regex host's server_name is a quoted token: map it back through the model.
      const owner = model.servers.find((s) => s.serverName === serverName[1]);
      for (const h of owner !== undefined ? [owner.hostname] : serverName[1].trim().split(/\s+/)) hosts.add(h);
    }
    const upstream = /^\s*upstream\s+(\S+)\s*\{/.exec(line);
    if (upstream?.[1] !== undefined) {
      const owner = model.servers.find((s) => s.upstreams.some((u) => u.name === upstream[1]));
      if (owner !== undefined) hosts.add(owner.hostname);
    }
  }
  return [...hosts].sort();
}

function unescapeInclude(path: string): string {
  return path.replace(/\\(.)/g, '$1');
}

function hostsIncluding(file: string, model: NginxModel): string[] {
  return model.servers
    .filter(
      (s) =>
        (s.snippet !== undefined && unescapeInclude(s.snippet) === file) ||
        s.locations.some((l) => l.snippet !== undefined && unescapeInclude(l.snippet) === file),
    )
    .map((s) => s.hostname);
}

function containersOf(hosts: readonly string[], model: NginxModel): string[] {
  const names = new Set<string>();
  for (const s of model.servers) {
    if (!hosts.includes(s.hostname)) continue;
    for (const u of s.upstreams) for (const srv of u.servers) names.add(srv.container);
  }
  return [...names].sort();
}

export function explainNginxError(output: string, generatedFile: string, generatedText: string, model: NginxModel, snippetFiles: readonly string[]): NginxErrorCulprit {
  const m = LOCATION_RE.exec(output.split('\n').find((l) => /\[(emerg|alert|crit|error)\]/.test(l)) ?? output);
  if (m === null || m[1] === undefined || m[2] === undefined) {
    return { file: undefined, line: undefined, kind: 'other', hosts: [], containers: [], source: undefined };
  }
  const file = m[1];
  const line = Number(m[2]);
  if (file === generatedFile) {
    const lines = generatedText.split('\n');
    const hosts = hostsOfBlock(enclosingBlock(lines, line), model);
    return { file, line, kind: 'generated', hosts, containers: containersOf(hosts, model), source: lines[line - 1]?.trim() };
  }
  const isSnippet = snippetFiles.some((dir) => file === dir || file.startsWith(`${dir.replace(/\/+$/, '')}/`));
  if (isSnippet) {
    const hosts = hostsIncluding(file, model);
    return { file, line, kind: 'snippet', hosts, containers: containersOf(hosts, model), source: undefined };
  }
  return { file, line, kind: 'other', hosts: [], containers: [], source: undefined };
}
