export { createNodeDataPlane, type NodeDataPlane, type NodeDataPlaneOptions, type ProxyConfig } from './node-data-plane.ts';
export { validateLogFormat } from './access-log.ts';
