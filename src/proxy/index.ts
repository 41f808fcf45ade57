export { createNodeDataPlane, type NodeDataPlane, type NodeDataPlaneOptions, type ProxyConfig } from './node-data-plane.ts';
