/** The nginx data plane: Eta templates -> nginx config, validated with `nginx -t`, reloaded, nginx supervised. */
export { createNginxDataPlane, type NginxDataPlaneOptions } from './nginx-data-plane.ts';
export { renderNginxConfig, type RenderOptions, type RenderResult } from './render-nginx-config.ts';
export type { DroppedContainer } from './nginx-model.ts';
export { nginxEscape } from './escape.ts';
