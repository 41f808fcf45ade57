import { inspectHash } from './password-hash.ts';

/**
 * htpasswd files and Basic credentials, read the way nginx's auth_basic module does
 * (ngx_http_auth_basic_handler and ngx_http_auth_basic_user):
 *
 * - a line is `user:hash[:comment]`; a line that starts with `#` (or CR: a blank CRLF line) is skipped; LF or CRLF
 *   endings. The user is every byte up to the first `:` (spaces included, nothing trimmed); the hash ends at the
 *   next `:`, CR or LF. The first line whose user matches is used: a later duplicate is ignored even if the first
 *   line's hash is broken.
 * - texts are byte strings: read the file as 'latin1'; credentials are decoded as latin1 too, so bytes compare
 *   exactly whatever the encoding the file and the client used.
 */

export interface HtpasswdProblem {
  /** 1-based line number. */
  readonly line: number;
  readonly user?: string;
  readonly reason: string;
}

export interface Htpasswd {
  /** user -> stored hash (first line wins). A user whose hash is unsupported is kept: it can never log in. */
  readonly users: ReadonlyMap<string, string>;
  readonly problems: readonly HtpasswdProblem[];
}

export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

/** Parses an htpasswd file's text (read as latin1). Never throws: bad lines are reported in `problems`. */
export function parseHtpasswd(text: string): Htpasswd {
  const users = new Map<string, string>();
  const firstLine = new Map<string, number>();
  const problems: HtpasswdProblem[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] as string;
    const line = index + 1;
    if (raw.startsWith('#') || raw.startsWith('\r') || /^[ \t\r]*$/.test(raw)) continue;
    const colon = raw.indexOf(':');
    if (colon === -1) {
      problems.push({ line, reason: "no ':' on the line (expected user:hash)" });
      continue;
    }
    if (colon === 0) {
      problems.push({ line, reason: 'empty user name' });
      continue;
    }
    const user = raw.slice(0, colon);
    const seen = firstLine.get(user);
    if (seen !== undefined) {
      problems.push({ line, user, reason: `duplicate user: ignored, line ${seen} is used (as nginx does)` });
      continue;
    }
    const hash = /^[^:\r]*/.exec(raw.slice(colon + 1))?.[0] ?? '';
    users.set(user, hash);
    firstLine.set(user, line);
    const info = inspectHash(hash);
    if (info.scheme === undefined) problems.push({ line, user, reason: info.problem });
  }
  return { users, problems };
}

/**
 * Strict base64 as nginx's ngx_decode_base64 reads it (standard alphabet, length mod 4 never 1), with the `=`
 * padding optional: nginx stops at the first `=`, so it accepts padding-less tokens. Over-long padding and bytes
 * after the padding, which nginx ignores, are refused here.
 */
const BASE64_TOKEN = /^([A-Za-z0-9+/]*)(=*)$/;

function decodeBase64Token(token: string): string | undefined {
  const m = BASE64_TOKEN.exec(token);
  if (m === null) return undefined;
  const data = m[1] as string;
  const padding = (m[2] as string).length;
  if (data.length % 4 === 1) return undefined;
  if (padding !== 0 && (data.length + padding) % 4 !== 0) return undefined;
  return Buffer.from(data, 'base64').toString('latin1');
}

/**
 * The credentials of an `Authorization: Basic <base64(user:password)>` header (RFC 7617), as byte strings:
 * scheme `Basic` in any case followed by one or more spaces (not tabs, as nginx), then a base64 token; the user-id
 * is everything up to the first `:` and must not be empty, the password is the rest (may contain `:`, may be
 * empty). Undefined for a missing header, another scheme or a token nginx would refuse (nginx then answers 401).
 */
export function parseAuthorization(value: string | undefined): BasicCredentials | undefined {
  if (value === undefined) return undefined;
  const m = /^[ \t]*basic +([^ \t]*)[ \t]*$/i.exec(value);
  if (m === null || m[1] === '') return undefined;
  const decoded = decodeBase64Token(m[1] as string);
  if (decoded === undefined) return undefined;
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
