import { existsSync } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';

/**
 * Watches files and directories that change what berth serves (the nginx data plane: vhost.d, conf.d, proxy.conf,
 * htpasswd, the custom template dir; the Node data plane: htpasswd) and calls `onChange` once per burst
 * (debounced). nginx-proxy never noticed snippet edits (#125, #377, #584); berth re-renders (nginx) or re-reads.
 *
 * chokidar 4 does not notice a watched path that does not exist yet appearing later, so missing paths are
 * re-checked every `pollMs`; when one appears it is added to the watcher and counts as a change (and likewise
 * when one disappears).
 */

export interface OverrideWatcher {
  close(): Promise<void>;
}

export interface WatchOptions {
  readonly paths: readonly string[];
  readonly onChange: () => void;
  readonly logger: Logger;
  readonly debounceMs?: number;
  readonly pollMs?: number;
}

export function watchOverrides(options: WatchOptions): OverrideWatcher {
  const { logger, onChange } = options;
  const paths = [...new Set(options.paths)];
  const debounceMs = options.debounceMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  const trigger = (event: string, path: string): void => {
    logger.debug({ event, path }, 'override file changed');
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  const present = new Map(paths.map((p) => [p, existsSync(p)]));
  const watcher: FSWatcher = watch(
    paths.filter((p) => present.get(p) === true),
    { ignoreInitial: true, awaitWriteFinish: false },
  );
  watcher.on('all', (event, path) => trigger(event, path));
  watcher.on('error', (err) => logger.warn({ err }, 'watching override files failed'));
  const poll = setInterval(() => {
    for (const p of paths) {
      const now = existsSync(p);
      if (now === present.get(p)) continue;
      present.set(p, now);
      if (now) {
        // Re-add: chokidar may have dropped a path that was deleted and re-created.
        watcher.unwatch(p);
        watcher.add(p);
      }
      trigger(now ? 'appeared' : 'disappeared', p);
    }
  }, options.pollMs ?? 1000);
  poll.unref();
  return {
    async close(): Promise<void> {
      clearInterval(poll);
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
