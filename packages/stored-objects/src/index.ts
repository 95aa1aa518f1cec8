export * from './stored-bytes.js';
export * from './render-stored-frame.js';
