export { stowRoutes } from './stow-routes.js';
export { collectOrphans } from './collect-orphans.js';
