export * from './retrieve-wado-uri.js';
export * from './wado-uri-routes.js';
