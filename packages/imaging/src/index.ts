export { UnsupportedTransferSyntaxError, PixelDecodeError, RenderParameterError } from './errors.js';
export { type DecodedFrame, type PixelArray, type PixelDescription, canDecode, decodeFrame, isLosslessTransferSyntax, pixelDescription } from './decode.js';
export {
  type DisplayImage,
  type DisplayOptions,
  type VoiFunction,
  type Window,
  applyWindow,
  isUsableWindow,
  metadataWindow,
  modalityRescale,
  toDisplayImage,
} from './pixels.js';
export * from './params.js';
export { renderFrame, thumbnail, type RenderedContentType, type RenderedImage, THUMBNAIL_SIZE } from './render.js';
