import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { authFileCandidates } from '../../basic-auth-files.ts';
import type { Logger } from '../../logger.ts';
import type { Route, VirtualHost } from '../../routing-table.ts';
import { watchOverrides, type OverrideWatcher } from '../../watch-files.ts';
import { proxyError, type ProxyError } from '../responses.ts';
import { parseAuthorization, parseHtpasswd } from './htpasswd.ts';
import { CredentialChecker } from './verify-cache.ts';

/**
 * Basic auth for the Node data plane, as nginx-proxy sets it up (basic-auth-files.ts): a route is protected when
 * its user file exists in the htpasswd directory. The directory is read at start and again whenever something in it
 * changes (watched, as nginx reads the file per request: an edited password applies at once, without a container
 * event). A request to a protected route needs `Authorization: Basic` credentials that match a line of the file;
 * otherwise it gets 401 with `WWW-Authenticate: Basic realm="..."` (nginx's realm), and nothing reaches a backend.
 *
 * Fail closed: a user whose hash berth cannot check (DES crypt, yescrypt, a malformed line) cannot log in, and a
 * user file that cannot be read lets nobody in; both are logged once per change, naming the file and the line.
 * With no file in the directory (or no directory) the check costs one size test per request.
 */

export interface AuthRule {
  readonly realm: string;
  readonly users: ReadonlyMap<string, string>;
}

/** What the router does with a request to a route: let it through, answer it (401), or ask again once settled. */
export type AuthVerdict = true | ProxyError | Promise<unknown>;

export class BasicAuthStore {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #checker = new CredentialChecker();
  /** User files by name (those that could not be read have no users). */
  #files = new Map<string, ReadonlyMap<string, string>>();
  /** The rule of each route for the current files (null: open); dropped when the files change. */
  #rules = new WeakMap<Route, AuthRule | null>();
  #watcher: OverrideWatcher | undefined;

  constructor(dir: string, logger: Logger) {
    this.#dir = dir;
    this.#log = logger.child({ module: 'basic-auth' });
  }

  /** Reads the directory and watches it (a directory created later is noticed too). */
  start(): void {
    this.reload();
    this.#watcher ??= watchOverrides({ paths: [this.#dir], onChange: () => this.reload(), logger: this.#log, debounceMs: 50 });
  }

  async close(): Promise<void> {
    await this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** Reads every user file again (called by the watcher; public for tests). */
  reload(): void {
    const files = new Map<string, ReadonlyMap<string, string>>();
    for (const name of this.#names()) {
      const file = join(this.#dir, name);
      let text: string;
      try {
        if (!statSync(file).isFile()) continue;
        text = readFileSync(file, 'latin1');
      } catch (err) {
        this.#log.warn({ file, err, code: 'WARN_HTPASSWD_UNREADABLE' }, 'Basic auth user file cannot be read: nobody can log in to what it protects');
        files.set(name, new Map());
        continue;
      }
      const parsed = parseHtpasswd(text);
      for (const p of parsed.problems) {
        this.#log.warn({ file, line: p.line, user: p.user, code: 'WARN_HTPASSWD_LINE' }, `Basic auth user file, line ${p.line}: ${p.reason}`);
      }
      files.set(name, parsed.users);
    }
    this.#files = files;
    this.#rules = new WeakMap();
    this.#log.debug({ dir: this.#dir, files: files.size }, 'Basic auth user files read');
  }

  #names(): string[] {
    try {
      return readdirSync(this.#dir).filter((n) => !n.startsWith('.'));
    } catch {
      return []; // no directory: nothing is protected
    }
  }

  /** The rule protecting `route` of `host`, or undefined when it is open. */
  ruleFor(host: VirtualHost, route: Route): AuthRule | undefined {
    if (this.#files.size === 0) return undefined;
    let rule = this.#rules.get(route);
    if (rule === undefined) {
      const found = authFileCandidates(host, route).find((c) => this.#files.has(c.name));
      const users = found === undefined ? undefined : this.#files.get(found.name);
      rule = found === undefined || users === undefined ? null : { realm: found.realm, users };
      this.#rules.set(route, rule);
    }
    return rule ?? undefined;
  }

  /** The verdict for a request (its raw header lines) to `route` of `host`. */
  check(host: VirtualHost, route: Route, rawHeaders: readonly string[]): AuthVerdict {
    const rule = this.ruleFor(host, route);
    if (rule === undefined) return true;
    const credentials = parseAuthorization(authorizationHeader(rawHeaders));
    if (credentials === undefined) return unauthorized(rule, 'no credentials');
    const ok = this.#checker.check(rule.users, credentials);
    if (ok === true) return true;
    if (ok === false) return unauthorized(rule, 'wrong user name or password');
    return ok;
  }
}

function authorizationHeader(raw: readonly string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 13 && name.toLowerCase() === 'authorization') return raw[i + 1];
  }
  return undefined;
}

function unauthorized(rule: AuthRule, why: string): ProxyError {
  const realm = rule.realm.replace(/["\\]/g, '\\$&');
  return { ...proxyError('UNAUTHORIZED', `${why} (Basic auth, ${rule.realm})`), authenticate: `Basic realm="${realm}"` };
}
