import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Config } from '../config.ts';
import type { RoutingTable } from '../routing-table.ts';
import { buildNginxModel } from './nginx-model.ts';

/**
 * Validated copies of the user's snippet files (vhost.d, proxy.conf, conf.d/*.conf). The live config includes
 * these copies, not the user's files: editing a snippet into something broken then never leaves a config on disk
 * that fails `nginx -t` (which would crash-loop nginx at its next restart). Snapshots are content-addressed
 * (`<root>/<sha1 of names + contents>`), so unchanged snippets give byte-identical config and no reload.
 */

export interface SnippetSnapshot {
  readonly dir: string;
  /** Directory whose `*.conf` the main config includes (copies of confDir/*.conf). */
  readonly confDir: string;
  /** User file -> its copy. */
  includePath(source: string): string;
  /** Replaces copy paths by the user's paths in a text (nginx's error output), so logs name the real file. */
  toSourcePaths(text: string): string;
}

interface Entry {
  readonly source: string;
  readonly rel: string;
}

async function confFiles(confDir: string): Promise<string[]> {
  const names = await readdir(confDir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.conf')).sort().map((n) => join(confDir, n));
}

export interface SnapshotDirs {
  readonly proxyConf: string;
  readonly confDir: string;
  readonly vhostDir: string;
}

export interface PlannedSnapshot {
  readonly snapshot: SnippetSnapshot;
  readonly files: ReadonlyMap<string, string>;
}

/**
 * Plans a snapshot of `sources` (the snippet files the config includes) plus confDir/*.conf under `root`. Reads
 * the files; writes nothing. A source that vanished since it was seen is snapshotted as an empty file.
 */
export async function planSnapshot(root: string, sources: readonly string[], dirs: SnapshotDirs): Promise<PlannedSnapshot> {
  const { proxyConf, confDir, vhostDir } = dirs;
  // vhost.d files keep their name; other single files (network_internal.conf) go to etc/, so no host name collides.
  const relOf = (source: string): string =>
    source === proxyConf ? 'proxy.conf' : join(dirname(source) === vhostDir.replace(/\/+$/, '') ? 'vhost.d' : 'etc', basename(source));
  const entries: Entry[] = [...new Set(sources)].sort().map((source) => ({ source, rel: relOf(source) }));
  for (const source of await confFiles(confDir)) entries.push({ source, rel: join('conf.d', basename(source)) });
  const contents = new Map<string, string>();
  const hash = createHash('sha1');
  for (const e of entries) {
    const text = await readFile(e.source, 'utf8').catch(() => '');
    contents.set(e.rel, text);
    hash.update(`${e.rel}\0${text}\0`);
  }
  const dir = join(root, hash.digest('hex').slice(0, 16));
  const bySource = new Map(entries.map((e) => [e.source, join(dir, e.rel)]));
  const snapshot: SnippetSnapshot = {
    dir,
    confDir: join(dir, 'conf.d'),
    includePath: (source) => bySource.get(source) ?? source,
    // Longest copy path first: `vhost.d/a.test` is a prefix of `vhost.d/a.test_location`.
    toSourcePaths: (text) =>
      [...entries].sort((x, y) => y.rel.length - x.rel.length).reduce((t, e) => t.split(join(dir, e.rel)).join(e.source), text),
  };
  return { snapshot, files: contents };
}

/** Which snippet files `table` includes (a cheap model pass), planned as a content-addressed snapshot under `root`. */
export function planSnippets(table: RoutingTable, config: Config, accessLog: string, root: string): Promise<PlannedSnapshot> {
  const sources: string[] = [];
  buildNginxModel(table, config, {
    accessLog,
    exists: existsSync,
    includePath: (source) => {
      sources.push(source);
      return source;
    },
  });
  return planSnapshot(root, sources, config.nginx);
}

/** Writes the snapshot directory (atomically: a temp dir renamed into place); a no-op if it already exists. */
export async function writeSnapshot(planned: PlannedSnapshot): Promise<void> {
  const { dir } = planned.snapshot;
  if (existsSync(dir)) return;
  const tmp = `${dir}.${randomBytes(4).toString('hex')}.tmp`;
  await mkdir(join(tmp, 'conf.d'), { recursive: true });
  await mkdir(join(tmp, 'vhost.d'), { recursive: true });
  await mkdir(join(tmp, 'etc'), { recursive: true });
  for (const [rel, text] of planned.files) await writeFile(join(tmp, rel), text);
  try {
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(dir)) throw err;
  }
}

/** Removes every snapshot under `root` except `keep`. */
export async function pruneSnapshots(root: string, keep: string | undefined): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  await Promise.all(names.map((n) => join(root, n)).filter((p) => p !== keep).map((p) => rm(p, { recursive: true, force: true })));
}
