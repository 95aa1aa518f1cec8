export { blobSource, frameCount, frameBytes, bulkBytes } from './stored-bytes.js';
export { renderStoredFrame, renderProblem } from './render-stored-frame.js';
export { canDecodeStored, openStoredDecodedFrames, encodeDecodedPart10 } from './decoded-pixels.js';
