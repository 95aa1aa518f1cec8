export * from './stored-bytes.js';
export * from './render-stored-frame.js';
export * from './decoded-pixels.js';
