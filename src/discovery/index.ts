export { buildRoutingTable, selectAddress } from './build-routing-table.ts';
export type { ContainerInfo, ProxyPlacement } from './container-info.ts';
export { createDiscovery, type Discovery, type DiscoveryOptions } from './discovery.ts';
export { createDockerEngine, describeEngineError, type DockerEngine } from './docker-engine.ts';
