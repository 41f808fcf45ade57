import type { Config } from './config.ts';
import type { Route, VirtualHost } from './routing-table.ts';
import { sha1 } from './sha1.ts';

/**
 * nginx-proxy's Basic auth convention, shared by both data planes: a host (or one path of it) is protected when a
 * user file exists in the htpasswd directory, `<VHOST>_<sha1(path)>` for one path, else `<VHOST>` for the whole
 * host (`<VHOST>` is the host name, or the sha1 of a regex host's pattern). The realm says which: `Restricted
 * <host><path>` or `Restricted <host>` (`Restricted access` for a regex host, whose pattern would show otherwise).
 */

/** nginx-proxy's htpasswd directory: BERTH_HTPASSWD_DIR, by default `/etc/nginx/htpasswd` beside vhost.d. */
export function htpasswdDir(config: Pick<Config, 'htpasswdDir'>): string {
  return config.htpasswdDir;
}

/** nginx-proxy's file name for a host's snippets and htpasswd files: sha1 of the pattern for a regex host. */
export function vhostFileName(host: VirtualHost): string {
  return host.kind === 'regex' ? sha1(host.hostname) : host.hostname;
}

export interface AuthFileCandidate {
  /** File name inside the htpasswd directory. */
  readonly name: string;
  /** The realm nginx-proxy gives it. */
  readonly realm: string;
}

/** The user files that would protect `route` of `host`, in order of precedence (the first existing one wins). */
export function authFileCandidates(host: VirtualHost, route: Route): readonly [AuthFileCandidate, AuthFileCandidate] {
  const name = vhostFileName(host);
  const regex = host.kind === 'regex';
  return [
    { name: `${name}_${sha1(route.path)}`, realm: regex ? 'Restricted access' : `Restricted ${host.hostname}${route.path}` },
    { name, realm: regex ? 'Restricted access' : `Restricted ${host.hostname}` },
  ];
}
