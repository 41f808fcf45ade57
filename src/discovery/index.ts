export { buildRoutingTable, selectAddress, type BuildOptions } from './build-routing-table.ts';
export type { ContainerInfo, ProxyPlacement } from './container-info.ts';
export { createDiscovery, type Discovery, type DiscoveryOptions } from './discovery.ts';
export { createDockerEngine, describeEngineError, type ContainerFilters, type DockerEngine } from './docker-engine.ts';
