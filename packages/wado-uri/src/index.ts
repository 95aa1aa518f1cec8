export { wadoUriRoutes } from './wado-uri-routes.js';
