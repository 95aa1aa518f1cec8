export * from './app.js';
export * from './config.js';
export * from './server.js';
export * from './public-url.js';
export * from './route-access.js';
