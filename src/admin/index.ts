export { adminGet } from './admin-client.ts';
export { startAdminServer, type AdminServer, type AdminState, type RoutesView } from './admin-server.ts';
export { formatExplanation, formatRoutes } from './format.ts';
