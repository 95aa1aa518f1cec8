export { stowRoutes } from './stow-routes.js';
export { collectOrphans } from './collect-orphans.js';
export { uploadRoutes, type UploadFileResult } from './upload-routes.js';
