export * from './store-instances.js';
export * from './stow-routes.js';
export * from './spool.js';
export * from './collect-orphans.js';
export * from './metadata-bulk.js';
export * from './body-timeout.js';
