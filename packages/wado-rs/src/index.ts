export { wadoRoutes } from './wado-routes.js';
export { renderedRoutes } from './rendered-routes.js';
