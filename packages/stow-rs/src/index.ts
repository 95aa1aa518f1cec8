export { stowRoutes, type StowObserver } from './stow-routes.js';
export type { StoreOutcome, InstanceResult } from './store-instances.js';
export { collectOrphans } from './collect-orphans.js';
export { uploadRoutes, type UploadFileResult } from './upload-routes.js';
export { DescribePool } from './describe-pool.js';
