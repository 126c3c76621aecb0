export { Dashboard, type DashboardOptions } from './server.js';
export { dashboardFiles } from './files.js';
