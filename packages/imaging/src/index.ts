export { UnsupportedTransferSyntaxError, PixelDecodeError, RenderParameterError } from './errors.js';
export { type DecodedFrame, type PixelArray, canDecode, decodeFrame } from './decode.js';
export { parseRenderedParams, parseWadoUriRenderParams } from './params.js';
export { renderFrame, thumbnail, type RenderedContentType, type RenderedImage, THUMBNAIL_SIZE } from './render.js';
