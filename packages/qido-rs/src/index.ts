export { qidoRoutes } from './qido-routes.js';
