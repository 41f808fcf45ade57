import { join } from 'node:path';

/** Files berth keeps under config.nginx.stateDir. */
export function statePaths(stateDir: string) {
  return {
    mainConf: join(stateDir, 'nginx.conf'),
    generated: join(stateDir, 'berth.conf'),
    pidFile: join(stateDir, 'nginx.pid'),
    tempDir: join(stateDir, 'tmp'),
    candidateDir: join(stateDir, 'candidate'),
    candidateMain: join(stateDir, 'candidate', 'nginx.conf'),
    candidateGenerated: join(stateDir, 'candidate', 'berth.conf'),
    snippets: join(stateDir, 'snippets'),
  };
}
