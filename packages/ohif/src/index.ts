export * from './app-config.js';
export * from './viewer-routes.js';
import { fileURLToPath } from 'node:url';
/** Where scripts/fetch-viewer.ts installs the pinned OHIF dist. */
export const DEFAULT_VIEWER_DIR = fileURLToPath(new URL('../viewer', import.meta.url));
export * from './ohif-routes.js';
export * from './legacy-study.js';
export * from './dicom-json-study.js';
export * from './study-view.js';
export * from './legacy-link.js';
export * from './viewer-dist.js';
