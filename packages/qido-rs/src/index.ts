export * from './accept.js';
export * from './search-parameters.js';
export * from './search-results.js';
export * from './search-transactions.js';
export * from './qido-routes.js';
