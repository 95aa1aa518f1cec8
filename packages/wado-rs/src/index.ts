export { wadoRoutes } from './wado-routes.js';
