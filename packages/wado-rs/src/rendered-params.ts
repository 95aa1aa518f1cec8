import { type AnnotationKeyword, type IccProfile, RenderParameterError, type Viewport, type Window, isUsableWindow } from '@tessera/imaging';
import { INTEGER, MAX_DIMENSION, type QueryInput, decimal, parseAnnotation, parseQuality, positiveInteger, single } from '@tessera/retrieve';

/** The rendering parameters of a WADO-RS `/rendered` or `/thumbnail` request (PS3.18 §8.3.5). */
export interface RenderedParams {
  quality?: number;
  viewport?: Viewport;
  window?: Window;
  /** Requested annotations; they are not burned in (see `warnings`). */
  annotation: AnnotationKeyword[];
  iccprofile?: IccProfile;
  /** Texts for `Warning: 299` headers (ignored annotation keywords). */
  warnings: string[];
}

const SIGNED_INTEGER = /^[+-]?\d+$/;

function parseViewport(text: string | undefined, kind: 'rendered' | 'thumbnail'): Viewport | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length !== 2 && parts.length !== 6) {
    throw new RenderParameterError('viewport', kind === 'thumbnail' ? 'must be vw,vh' : 'must be vw,vh or vw,vh,sx,sy,sw,sh');
  }
  if (parts.length === 6 && kind === 'thumbnail') throw new RenderParameterError('viewport', 'a thumbnail accepts only vw,vh');
  const viewport: Viewport = { vw: positiveInteger('viewport', parts[0]!, MAX_DIMENSION), vh: positiveInteger('viewport', parts[1]!, MAX_DIMENSION) };
  if (parts.length === 6) {
    // Each region value may be left empty to take its default (0, 0, full width, full height).
    const [sx, sy, sw, sh] = parts.slice(2);
    if (sx !== '') {
      if (!INTEGER.test(sx!)) throw new RenderParameterError('viewport', `sx ${JSON.stringify(sx)} is not a non-negative integer`);
      viewport.sx = Number(sx);
    }
    if (sy !== '') {
      if (!INTEGER.test(sy!)) throw new RenderParameterError('viewport', `sy ${JSON.stringify(sy)} is not a non-negative integer`);
      viewport.sy = Number(sy);
    }
    for (const [key, value] of [
      ['sw', sw],
      ['sh', sh],
    ] as const) {
      if (value === '') continue;
      if (!SIGNED_INTEGER.test(value!) || Number(value) === 0)
        throw new RenderParameterError('viewport', `${key} ${JSON.stringify(value)} is not a non-zero integer`);
      viewport[key] = Number(value);
    }
  }
  return viewport;
}

const WINDOW_FUNCTIONS = new Set(['linear', 'linear-exact', 'sigmoid']);

function parseWindow(text: string | undefined): Window | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length !== 3 || parts.some((part) => part === '')) throw new RenderParameterError('window', 'must be center,width,function');
  const center = decimal('window', parts[0]!);
  const width = decimal('window', parts[1]!);
  const fn = parts[2]!.toLowerCase();
  if (!WINDOW_FUNCTIONS.has(fn)) throw new RenderParameterError('window', `function ${JSON.stringify(parts[2])} is not linear, linear-exact or sigmoid`);
  const window: Window = { center, width, function: fn as Window['function'] };
  if (!isUsableWindow(window)) throw new RenderParameterError('window', fn === 'linear' ? 'width must be at least 1' : 'width must be positive');
  return window;
}

function parseIccProfile(text: string | undefined): IccProfile | undefined {
  if (text === undefined) return undefined;
  const value = text.trim().toLowerCase();
  if (value === 'no' || value === 'yes' || value === 'srgb') return value;
  if (value === 'adobergb' || value === 'rommrgb') throw new RenderParameterError('iccprofile', `${value} is not supported (only no, yes, srgb)`);
  throw new RenderParameterError('iccprofile', `${JSON.stringify(text)} is not no, yes, srgb, adobergb or rommrgb`);
}

/**
 * Validates the query of a WADO-RS `/rendered` or `/thumbnail` request (digest WADORS-8/9). Throws
 * RenderParameterError (→ 400) for every ill-formed value. Thumbnails take only `viewport=vw,vh`;
 * other rendering parameters on a thumbnail are ignored like any unknown parameter.
 */
export function parseRenderedParams(query: QueryInput, kind: 'rendered' | 'thumbnail'): RenderedParams {
  if (kind === 'thumbnail') return { viewport: parseViewport(single(query, 'viewport'), kind), annotation: [], warnings: [] };
  const { annotation, warnings } = parseAnnotation(query, ['annotation']);
  const params: RenderedParams = { annotation, warnings };
  const quality = parseQuality('quality', single(query, 'quality'));
  if (quality !== undefined) params.quality = quality;
  const viewport = parseViewport(single(query, 'viewport'), kind);
  if (viewport) params.viewport = viewport;
  const window = parseWindow(single(query, 'window'));
  if (window) params.window = window;
  const iccprofile = parseIccProfile(single(query, 'iccprofile'));
  if (iccprofile) params.iccprofile = iccprofile;
  return params;
}
