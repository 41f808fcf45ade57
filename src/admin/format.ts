import type { Explanation } from '../discovery/explain-container.ts';
import type { RoutesView } from './admin-server.ts';

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/** `berth routes`: one line per backend, hosts without backends shown too, then the skipped containers. */
export function formatRoutes(view: RoutesView): string {
  const rows: string[][] = [['HOST', 'PATH', 'BACKEND', 'ADDRESS', 'STATE']];
  for (const host of view.hosts) {
    for (const route of host.routes) {
      if (route.backends.length === 0) rows.push([host.hostname, route.path, '-', '-', 'no reachable backend']);
      for (const b of route.backends) {
        const address = b.address.includes(':') ? `[${b.address}]:${b.port}` : `${b.address}:${b.port}`;
        rows.push([host.hostname, route.path, b.container, address, b.state]);
      }
    }
  }
  let out = view.hosts.length === 0 ? 'no routes: no running container sets VIRTUAL_HOST\n' : `${table(rows)}\n`;
  // ERR_*: the container (or that host/path of it) is not routed; WARN_*: routed, but not quite as it asked.
  const errors = view.issues.filter((i) => !i.code.startsWith('WARN_'));
  const warnings = view.issues.filter((i) => i.code.startsWith('WARN_'));
  const line = (i: RoutesView['issues'][number]): string => `  ${i.containerName}: ${i.message.replace(`container ${i.containerName}: `, '')} [${i.code}]\n`;
  if (errors.length > 0) out += `\nnot routed (${errors.length}):\n${errors.map(line).join('')}`;
  if (warnings.length > 0) out += `\nrouted, with warnings (${warnings.length}):\n${warnings.map(line).join('')}`;
  return out;
}

/** `berth explain <container>`: a verdict line, the backends, then the findings. */
export function formatExplanation(e: Explanation): string {
  if (e.container === undefined) return `${e.query}: not found\n  - ${e.findings.join('\n  - ')}\n`;
  const verdict = e.routed ? 'routed' : 'NOT routed';
  let out = `${e.container.name} (${e.container.id.slice(0, 12)}): ${verdict}\n`;
  for (const b of e.backends) {
    out += `  ${b.host}${b.path === '/' ? '' : b.path} -> ${b.address}:${b.port} on ${b.network}: ${b.state} (${b.detail})\n`;
  }
  for (const f of e.findings) out += `  - ${f}\n`;
  return out;
}
