/**
 * Pure parsing of where a request is going: the `$host` nginx would compute and the path used for location matching.
 * nginx semantics: an absolute-form request target (`GET http://a.example/x HTTP/1.1`) wins over the Host header; the
 * port is stripped; the name is lower-cased; a trailing dot is dropped. IPv6 literals keep their brackets
 * (`[::1]:8080` -> `[::1]`), as in nginx's `$host`.
 */

export interface RequestTarget {
  /** `$host`: lower-case host name without port; empty when the request names no host. */
  readonly host: string;
  /** Path component of the request target, without the query string; always starts with `/` (or is `*`). */
  readonly path: string;
  /** Origin-form target to send upstream and report as `$request_uri` (`/path?query`). */
  readonly uri: string;
}

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)(.*)$/is;

/**
 * Strips the port from a Host header value or URL authority; lower-cases; drops a trailing dot. Userinfo is only
 * stripped from the authority of an absolute-form target: in a Host header `user@a.example` is a name that matches
 * nothing, as in nginx.
 */
export function hostWithoutPort(authority: string, stripUserinfo = false): string {
  let value = authority.trim();
  const at = stripUserinfo ? value.lastIndexOf('@') : -1;
  if (at !== -1) value = value.slice(at + 1);
  let host: string;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    host = end === -1 ? value : value.slice(0, end + 1);
  } else {
    const colon = value.indexOf(':');
    host = colon === -1 ? value : value.slice(0, colon);
  }
  host = host.toLowerCase();
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function pathOf(uri: string): string {
  const q = uri.indexOf('?');
  const path = q === -1 ? uri : uri.slice(0, q);
  return path === '' ? '/' : path;
}

/** `url` is the request target as received (`req.url`), `hostHeader` the Host header if any. */
export function parseRequestTarget(url: string, hostHeader: string | undefined): RequestTarget {
  const absolute = url.startsWith('/') ? null : ABSOLUTE_FORM.exec(url);
  if (absolute) {
    const rest = absolute[2] ?? '';
    const uri = rest.startsWith('/') ? rest : `/${rest}`;
    return { host: hostWithoutPort(absolute[1] ?? '', true), path: pathOf(uri), uri };
  }
  return { host: hostHeader === undefined ? '' : hostWithoutPort(hostHeader), path: pathOf(url), uri: url };
}

/** nginx's `$host_port`: `:<port>` unless the port is 80 or 443. */
export function hostPortSuffix(localPort: number): string {
  return localPort === 80 || localPort === 443 ? '' : `:${localPort}`;
}

/** Client address as nginx's `$remote_addr` shows it: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes plain IPv4. */
export function clientAddress(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return '';
  return remoteAddress.toLowerCase().startsWith('::ffff:') && remoteAddress.includes('.')
    ? remoteAddress.slice(7)
    : remoteAddress;
}
