export * from './wado-uri-request.js';
export * from './wado-uri-render-params.js';
export * from './wado-uri-problem.js';
export * from './retrieve-wado-uri.js';
export * from './wado-uri-routes.js';
