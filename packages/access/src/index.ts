export * from './principal.js';
export * from './verifier.js';
export * from './api-key.js';
export * from './api-key-verifier.js';
export * from './access-control.js';
