export { viewerAppConfig } from './app-config.js';
export { viewerRoutes } from './viewer-routes.js';
import { fileURLToPath } from 'node:url';
/** Where scripts/fetch-viewer.ts installs the pinned OHIF dist. */
export const DEFAULT_VIEWER_DIR = fileURLToPath(new URL('../viewer', import.meta.url));
export { ohifRoutes } from './ohif-routes.js';
