export { ReadinessTracker, targetKey, type BackendState, type ReadinessOptions } from './readiness-tracker.ts';
export { probeBackend, type ProbeFn } from './probes.ts';
