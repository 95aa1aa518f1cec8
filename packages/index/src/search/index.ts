export * from './search-query.js';
export * from './searchable-attributes.js';
export * from './search-index.js';
