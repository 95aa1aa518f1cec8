export { buildApp } from './app.js';
export { loadConfig, type Config, ConfigError, SETTINGS } from './config.js';
export { startServer } from './server.js';
export * from './route-access.js';
export { VERSION } from './version.js';
export { serveWorkerMetrics } from './metrics/metrics.js';
