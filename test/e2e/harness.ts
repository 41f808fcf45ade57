/**
 * End-to-end harness (helpers only, no tests): real Docker engine through its CLI, berth as a child process,
 * and client-side HTTP helpers. Tests import from here.
 *
 *   await ensureImages(); await cleanupAll();
 *   const berth = await startBerth({ mode: 'node' });
 *   await runContainer({ env: { VIRTUAL_HOST: host } });
 *   await eventually(async () => assert.equal((await get(berth.port, host)).status, 200));
 */
export {
  cleanupAll,
  containerAddress,
  createNetwork,
  docker,
  dockerOk,
  ECHO_BARE_IMAGE,
  ECHO_IMAGE,
  ensureImages,
  hostFor,
  removeContainer,
  removeNetwork,
  REPO_ROOT,
  restartDockerd,
  RUN_ID,
  runContainer,
  stopContainer,
  TEST_LABEL,
  uniqueName,
} from './docker-cli.ts';
export type { HealthcheckOptions, RunningContainer, RunOptions } from './docker-cli.ts';
export { describeOutput, e2eModes, freePort, startBerth, type Mode } from './berth-process.ts';
export type { BerthProcess, LogLine, StartBerthOptions } from './berth-process.ts';
export { eventually, get, getFrom, upgradeEcho } from './http-client.ts';
export type { EchoReply, EventuallyOptions, HttpResult, UpgradeResult } from './http-client.ts';
export { startLoad } from './load.ts';
export type { Load, LoadOptions, LoadResult } from './load.ts';
