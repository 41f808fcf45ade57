import type { RoutingTable, VirtualHost } from '../routing-table.ts';
import { type DroppedContainer, dropWith } from './dropped.ts';
import type { NginxErrorCulprit } from './explain-nginx-error.ts';

/**
 * Hosts whose rendered block `nginx -t` rejected although every value passed berth's checks: a regular expression
 * PCRE refuses (`~^(foo`), for instance. Rather than keep the whole new config out, the plane renders again without
 * those hosts (their containers are reported) so every other host still gets its update. A host is remembered in
 * the exact form nginx rejected, so later applies leave it out at once, and retry it as soon as it changes.
 *
 * Only the built-in templates qualify: with custom templates a failure inside a host block is more likely the
 * template's fault than the host's, and leaving hosts out one after another would hide that.
 */

const MAX_REMEMBERED = 1000;

export class RejectedHosts {
  /** JSON of the host as rejected -> nginx's error. */
  private readonly known = new Map<string, string>();

  /** `table` without the hosts nginx rejected in this very form, and the containers left out with them. */
  filter(table: RoutingTable): { table: RoutingTable; dropped: DroppedContainer[] } {
    if (this.known.size === 0) return { table, dropped: [] };
    const dropped: DroppedContainer[] = [];
    const hosts = table.hosts.filter((h) => {
      const error = this.known.get(JSON.stringify(h));
      if (error === undefined) return true;
      dropped.push(...rejectedHost(h, error));
      return false;
    });
    return { table: { ...table, hosts }, dropped };
  }

  /** Remembers `hostnames` of `table` as rejected by nginx with `error`. */
  add(table: RoutingTable, hostnames: readonly string[], error: string): void {
    if (this.known.size >= MAX_REMEMBERED) this.known.clear();
    for (const h of table.hosts) if (hostnames.includes(h.hostname)) this.known.set(JSON.stringify(h), error);
  }
}

function rejectedHost(host: VirtualHost, error: string): DroppedContainer[] {
  const what = `nginx -t rejected the config rendered for it: ${error.split('\n')[0] ?? error}`;
  return dropWith(host, host.routes, 'VIRTUAL_HOST', host.hostname, what);
}

/**
 * The hosts to leave out and try again, or undefined when the failure is not one host's: outside the generated
 * file (a snippet, conf.d), outside any host block, with custom templates, or naming every host of the table.
 */
export function retryWithout(culprit: NginxErrorCulprit, customTemplates: readonly string[], table: RoutingTable): string[] | undefined {
  if (culprit.kind !== 'generated' || customTemplates.length > 0) return undefined;
  const hosts = culprit.hosts.filter((h) => table.hosts.some((t) => t.hostname === h));
  if (hosts.length === 0 || hosts.length >= table.hosts.length) return undefined;
  return hosts;
}
