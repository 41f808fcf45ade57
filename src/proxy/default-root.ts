import { STATUS_CODES } from 'node:http';
import { toByteString } from './location-uri.ts';
import { httpHeader, parseTemplate, type TemplatePart } from './nginx-variables.ts';
import { localAnswer, type ProxyError } from './responses.ts';

/**
 * DEFAULT_ROOT: nginx-proxy writes `location / { return <DEFAULT_ROOT>; }` into hosts without a `/` path. This is
 * nginx's `return` for the Node data plane: `<status>`, `<status> <text>`, or a redirect status and a URL, with the
 * request variables a user may put there ($host, $request_uri, $uri, $args, $is_args, $scheme, $server_port,
 * $remote_addr, $http_*; other variables evaluate empty). Redirect URLs starting with `/` are made absolute as
 * nginx's absolute_redirect does (`http://$host[:port]`). A status of 400 or more without text gets berth's usual
 * short error body; a text is sent as it is (text/plain; nginx would send its default_type).
 */

export interface ReturnDirective {
  readonly status: number;
  /** The text or URL, parsed into nginx variables; undefined when only a status was given. */
  readonly text: readonly TemplatePart[] | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Parses DEFAULT_ROOT (already validated by config.ts); undefined for `none`/undefined or an unparsable value. */
export function parseReturn(value: string | undefined): ReturnDirective | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{3})(?:\s+(\S.*))?$/.exec(value.trim());
  if (m === null) return undefined;
  let text = m[2];
  // nginx's own quoting: `return 200 "some text"`.
  if (text !== undefined && text.length >= 2 && (text[0] === '"' || text[0] === "'") && text.endsWith(text[0])) text = text.slice(1, -1);
  let parts: TemplatePart[] | undefined;
  try {
    parts = text === undefined ? undefined : parseTemplate(toByteString(text));
  } catch {
    parts = text === undefined ? undefined : [{ kind: 'text', text: toByteString(text) }];
  }
  return { status: Number(m[1]), text: parts };
}

/** The request values `return` text may use. Strings are byte strings. */
export interface ReturnVariables {
  readonly host: string;
  readonly requestUri: string;
  readonly path: string;
  readonly args: string | undefined;
  readonly scheme: string;
  readonly serverPort: number;
  readonly clientAddress: string;
  readonly rawHeaders: readonly string[];
}

function variable(name: string, v: ReturnVariables): string {
  switch (name) {
    case 'host':
      return v.host;
    case 'request_uri':
      return v.requestUri;
    case 'uri':
    case 'document_uri':
      return v.path;
    case 'args':
    case 'query_string':
      return v.args ?? '';
    case 'is_args':
      return v.args === undefined || v.args === '' ? '' : '?';
    case 'scheme':
      return v.scheme;
    case 'server_port':
      return String(v.serverPort);
    case 'remote_addr':
      return v.clientAddress;
    default:
      return name.startsWith('http_') ? (httpHeader(v.rawHeaders, name.slice(5)) ?? '') : '';
  }
}

/** nginx absolute_redirect + port_in_redirect: `/x` becomes `http://host[:port]/x` (the port unless 80/443). */
export function absoluteLocation(location: string, scheme: string, host: string, port: number): string {
  if (!location.startsWith('/')) return location;
  const defaultPort = scheme === 'https' ? 443 : 80;
  return `${scheme}://${host}${port === defaultPort ? '' : `:${port}`}${location}`;
}

export function returnAnswer(directive: ReturnDirective, vars: ReturnVariables): ProxyError {
  const { status, text } = directive;
  const value = text === undefined ? undefined : text.map((p) => (p.kind === 'text' ? p.text : variable(p.name, vars))).join('');
  const reason = STATUS_CODES[status] ?? '';
  if (REDIRECTS.has(status) && value !== undefined) {
    const location = absoluteLocation(value, vars.scheme, vars.host, vars.serverPort);
    return localAnswer('DEFAULT_ROOT', status, `${status} ${reason}\n`, { location, latin1: true });
  }
  if (value !== undefined) return localAnswer('DEFAULT_ROOT', status, value, { latin1: true });
  return localAnswer('DEFAULT_ROOT', status, status >= 400 ? `${status} ${reason}\n` : '');
}
